#!/usr/bin/env bash
# Creates (once) a Python 2.7 virtualenv holding Autobahn|Testsuite's wstest.
# autobahntestsuite is Python 2 code and its sdist declares no dependencies,
# so every dependency is pinned here (see ../shared/FACTS.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv="${AUTOBAHN_VENV:-$here/.venv-autobahn}"
if [ -x "$venv/bin/wstest" ]; then echo "$venv"; exit 0; fi
py2="$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/2.7.18/bin/python2.7"
[ -x "$py2" ] || { echo "autobahn-venv: Python 2.7.18 not found at $py2" >&2; exit 1; }
boot="$here/.venv-autobahn-boot"
[ -x "$boot/bin/virtualenv" ] || { python3 -m venv "$boot" >&2 && "$boot/bin/pip" install -q 'virtualenv<20.22' >&2; }
"$boot/bin/virtualenv" -q -p "$py2" "$venv" >&2
"$venv/bin/pip" install -q --no-deps \
  autobahntestsuite==25.10.1 autobahn==0.10.9 Twisted==19.10.0 txaio==2.1.0 zope.interface==4.6.0 \
  incremental==16.10.1 constantly==15.1.0 Automat==22.10.0 attrs==21.4.0 hyperlink==21.0.0 idna==2.10 \
  PyHamcrest==1.10.1 six==1.16.0 typing==3.10.0.0 pyOpenSSL==19.1.0 cryptography==3.3.2 cffi==1.15.1 \
  pycparser==2.21 enum34==1.1.10 ipaddress==1.0.23 service-identity==18.1.0 pyasn1==0.5.1 \
  pyasn1-modules==0.3.0 klein==17.10.0 Werkzeug==1.0.1 Jinja2==2.11.3 MarkupSafe==1.1.1 unittest2==1.1.0 \
  linecache2==1.0.0 traceback2==1.4.0 argparse==1.4.0 wsaccel==0.6.6 ujson==2.0.3 setuptools==44.0.0 >&2
echo "$venv"
