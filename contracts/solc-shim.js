#!/usr/bin/env node
// forge's `solc` on machines without a native compiler: answers `--version` and `--standard-json`
// (JSON on stdin, as forge calls it) with solc-js from the repo's node_modules.
// foundry.toml: solc = "./solc-shim.js" (resolved from the working directory: run forge inside contracts/).
'use strict';
const fs = require('fs');
const path = require('path');

const VERSION = '0.8.37+commit.f401782d'; // must match the pinned solc package (checked below)
const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${VERSION}.Linux.g++\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-shim.js: only --version and --standard-json are supported\n');
  process.exit(2);
}
const input = fs.readFileSync(0, 'utf8');
const solc = require('solc');
if (!solc.version().startsWith(VERSION)) {
  process.stderr.write(`solc-shim.js: solc-js is ${solc.version()}, expected ${VERSION}\n`);
  process.exit(1);
}
// Import roots in solc's order: --base-path, every --include-path, then the --allow-paths lists.
const roots = ['--base-path', '--include-path', '--allow-paths']
  .flatMap((flag) => args.flatMap((arg, i) => (arg === flag && args[i + 1] ? args[i + 1].split(',') : [])))
  .filter(Boolean);
function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.resolve(root, importPath));
  const found = candidates.find((file) => fs.existsSync(file) && fs.statSync(file).isFile());
  return found ? { contents: fs.readFileSync(found, 'utf8') } : { error: `File not found: ${importPath}` };
}
process.stdout.write(solc.compile(input, { import: findImports }));
