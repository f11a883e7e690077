#!/usr/bin/env node
import { runCli } from './program.js';

// Exit when the command is done, even if a task left a timer or a connection open.
const code = await runCli(process.argv);
process.stdout.write('', () => process.exit(code));
