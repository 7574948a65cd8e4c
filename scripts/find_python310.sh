#!/usr/bin/env bash
# Prints the path of a working Python 3.10 (Rasa 3.6 does not run on 3.11+).
for candidate in "${PYTHON310:-}" python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 \
                 "$HOME"/.pyenv/versions/3.10*/bin/python3.10; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "No working python3.10 found; install Python 3.10 or set PYTHON310=/path/to/python3.10" >&2
exit 1
