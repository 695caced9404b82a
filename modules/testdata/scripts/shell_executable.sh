printf 'run\0'
exec /bin/bash -c 'echo '"'"'a'"'"' | cat'
