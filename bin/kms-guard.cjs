#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npm ci && npx kms-guard` needs no build step.
require('tsx/cjs');
require('../src/cli/main.ts');
