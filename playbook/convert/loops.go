package convert

// rewriteLoops used to rewrite with_flattened, which mdo-play had no loop
// for, into loop: with the flatten filter. The loader now maps every
// with_NAME keyword to the lookup NAME (with_flattened to the flattened
// lookup, with_community.general.cartesian to cartesian, ...), as
// Ansible's task loader does, so a with_* loop keeps its keyword and only
// the Jinja in its value is converted: the items stay what Ansible's
// lookup gives, which `| flatten` did not always match (flattened also
// stops at "None" and expands a string naming a list variable). A with_*
// keyword naming a lookup mdo-play lacks is reported by the loader (and
// lint) with its file:line:col.
func rewriteLoops(src []byte) []byte { return src }
