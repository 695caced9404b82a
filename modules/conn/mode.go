package conn

import "io/fs"

// UnixPerm returns the permission bits of m as chmod takes them (07777):
// io/fs keeps setuid, setgid and sticky apart from the permission bits.
func UnixPerm(m fs.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// PermMode is UnixPerm's inverse: the io/fs mode of permission bits
// 07777 (no file type).
func PermMode(b uint32) fs.FileMode {
	m := fs.FileMode(b & 0o777)
	if b&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if b&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if b&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}
