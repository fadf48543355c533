#!/usr/bin/env bash
# Copy the files /docs (Swagger UI) and /redoc (ReDoc) need from the pinned npm packages (package.json) into
# frontend/static/vendor/, where they are committed: the service serves them itself and needs neither Node nor a
# CDN at run time. Run from the repo root after `npm ci` whenever package.json changes their versions:
#   scripts/vendor_docs_ui.sh
# NODE_MODULES=dir takes the packages from elsewhere (e.g. `npm pack` output unpacked into dir/<name>/).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
modules="${NODE_MODULES:-$repo_root/node_modules}"
vendor="$repo_root/frontend/static/vendor"

copy() {  # package, destination folder, files...
    local package="$1" dest="$vendor/$2"
    shift 2
    if [[ ! -f "$modules/$package/package.json" ]]; then
        echo "$package not found in $modules: run 'npm ci' first" >&2
        exit 1
    fi
    rm -rf "$dest"
    mkdir -p "$dest"
    for file in "$@"; do
        cp "$modules/$package/$file" "$dest/"
    done
    cp "$modules/$package/package.json" "$dest/package.json"  # the version and licence, for the record
    echo "$package $(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["version"])' \
        "$modules/$package/package.json") -> ${dest#"$repo_root"/}"
}

copy swagger-ui-dist swagger-ui swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css \
    oauth2-redirect.js LICENSE NOTICE
copy redoc redoc bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE

# The one change to a vendored file: ReDoc's menu footer shows a logo from cdn.redoc.ly, which would be a request to
# the internet (refused by our CSP, an error in the console). With no source the image fails at once and ReDoc
# hides it (its onError); the "API docs by Redocly" link stays.
logo='src:"https://cdn.redoc.ly/redoc/logo-mini.svg"'
bundle="$vendor/redoc/redoc.standalone.js"
if [[ "$(grep -o "$logo" "$bundle" | wc -l)" -ne 1 ]]; then
    echo "ReDoc's remote logo is not where this script expects it: check $bundle by hand" >&2
    exit 1
fi
sed -i "s#$logo#src:\"\"#" "$bundle"
