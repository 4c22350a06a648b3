#!/usr/bin/env -S node --max-semi-space-size=64
// The compiled CLI (built by `npm install` through the prepare script, or `npm run build`).
// A 64 MiB young generation: a billing or demo partition's working set (tens of thousands of
// rows and the bills made from them) otherwise outgrows the default and is copied and promoted
// on every scavenge; measured in docs/adr/0007. `npm start` passes the same flag.
import('../dist/main/cli.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/main/cli.js')) {
    process.stderr.write('gridcollect: not built yet; run `npm run build` (npm install does it for you)\n');
    process.exit(2);
  }
  throw error;
});
