# The startup file of a JupyterLab terminal that chatkit started (see chatkit/tools/terminal.py).
# First what bash itself would read for this kind of shell, then the kit's Python first on PATH,
# so that `pytest exercises/` and `python -m chatkit ...` are the kit's whatever those files did.
if [ -n "${CHATKIT_LOGIN_SHELL-}" ]; then
    [ -r /etc/profile ] && . /etc/profile
    for chatkit_startup in ~/.bash_profile ~/.bash_login ~/.profile; do
        if [ -r "$chatkit_startup" ]; then
            . "$chatkit_startup"
            break
        fi
    done
    unset chatkit_startup
elif [ -r ~/.bashrc ]; then
    . ~/.bashrc
fi
unset CHATKIT_LOGIN_SHELL
if [ -n "${CHATKIT_BIN-}" ]; then
    PATH="$CHATKIT_BIN:$PATH"
    export PATH
    hash -r
fi
