package become

// WithoutSFTP makes c's SFTP server fail to start, as on a target without
// one, so that tests see the shell fallback.
func WithoutSFTP(c *Conn) *Conn {
	c.sftpScript = `echo "no sftp-server found" >&2; exit 127`
	return c
}
