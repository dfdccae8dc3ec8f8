#!/usr/bin/env bash
# The Debian packages the test suite needs beyond Python: a browser for the pages, poppler for
# PDFs, LibreOffice to render the exports, SoftHSM2 as the seal's PKCS#11 token, graphviz for the
# diagrams, docker-compose to validate the compose file, pg_dump for the backup scripts; wrk for
# the benchmarks' load (`make bench`).
# Installs what is missing when run as root with apt; otherwise prints the one command that does.
set -euo pipefail

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v dot >/dev/null || need+=(graphviz)
command -v soffice >/dev/null || need+=(libreoffice-writer-nogui libreoffice-calc-nogui)
command -v softhsm2-util >/dev/null || need+=(softhsm2)
command -v pg_restore >/dev/null || need+=(postgresql-client)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v redis-server >/dev/null || need+=(redis-server)
command -v wrk >/dev/null || need+=(wrk)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
# Times New Roman's metric twin: the exports' column widths are measured in it.
dpkg -s fonts-liberation2 >/dev/null 2>&1 || need+=(fonts-liberation2)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0 libpangoft2-1.0-0)

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "Some suites need system packages that are missing. Install them with:" >&2
  echo "  sudo apt-get install --no-install-recommends ${need[*]}" >&2
  echo "(their tests are skipped until then; the summary at the end names them)" >&2
fi
