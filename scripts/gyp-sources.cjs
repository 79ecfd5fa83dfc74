// Lists the C++ sources of the CPU-only addon for binding.gyp (gyp has no globbing), so the
// source list lives in one place: the folders.
const fs = require('node:fs');
const path = require('node:path');
const dirs = ['native/src/core', 'native/src/ops', 'native/src/cpu', 'native/addon'];
const files = dirs.flatMap((dir) => fs.readdirSync(path.join(__dirname, '..', dir)).filter((f) => f.endsWith('.cc')).map((f) => `${dir}/${f}`));
console.log(files.sort().join('\n'));
