_mdo_p=/nonexistent-mdo
_mdo_found=
IFS=
for _mdo_f in $_mdo_p; do if [ -e "$_mdo_f" ] || [ -L "$_mdo_f" ]; then _mdo_found=1; break; fi; done
unset IFS
if [ -n "$_mdo_found" ]; then printf 'creates\0%s\0' "$_mdo_p"; exit 0; else :; fi
printf 'run\0'
exec /bin/sh -c 'echo '"'"'a'"'"' | cat'
