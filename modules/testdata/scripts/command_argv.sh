_mdo_l1='$HOME'
command -v echo >/dev/null 2>&1 || { printf 'notfound\0'; exit 2; }
printf 'run\0'
exec echo 'it'"'"'s' "${HOME-$_mdo_l1}"/x ~/y
