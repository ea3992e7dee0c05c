#!/usr/bin/env node
// `kubectl tailor ...`: kubectl runs any `kubectl-NAME` executable on PATH as `kubectl NAME`; this one
// is the same CLI as `tailor` (npm links both from package.json "bin").
process.env.TAILOR_CLI_NAME ??= 'kubectl tailor';
await import('../dist/cli/main.js');
