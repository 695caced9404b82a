_mdo_l1='$USER'
cd -- /nonexistent-mdo || { printf 'chdir\0'; exit 1; }
_mdo_p=~/'out*'
_mdo_found=
IFS=
for _mdo_f in $_mdo_p; do if [ -e "$_mdo_f" ] || [ -L "$_mdo_f" ]; then _mdo_found=1; break; fi; done
unset IFS
if [ -n "$_mdo_found" ]; then printf 'creates\0%s\0' "$_mdo_p"; exit 0; else :; fi
_mdo_p=/tmp/"${USER-$_mdo_l1}"
_mdo_found=
IFS=
for _mdo_f in $_mdo_p; do if [ -e "$_mdo_f" ] || [ -L "$_mdo_f" ]; then _mdo_found=1; break; fi; done
unset IFS
if [ -n "$_mdo_found" ]; then :; else printf 'removes\0%s\0' "$_mdo_p"; exit 0; fi
command -v echo >/dev/null 2>&1 || { printf 'notfound\0'; exit 2; }
printf 'run\0'
exec echo hi
