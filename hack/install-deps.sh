#!/usr/bin/env bash
# Debian packages the Python side needs on a fresh machine: venv support and ffmpeg/ffprobe.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
command -v ffprobe >/dev/null && command -v ffmpeg >/dev/null || apt_install ffmpeg
# The CLI's tests drive it in a real terminal (tmux).
command -v tmux >/dev/null || apt_install tmux
# A test opens the API's /docs in a real headless browser.
command -v chromium >/dev/null || apt_install chromium
