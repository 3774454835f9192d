import type { CommandModule } from 'yargs';
import type { CliContext } from './context.js';
import { demoCommand } from './demo.js';
import { migrateCommand } from './migrate.js';
import { planCommand } from './plan.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { statusCommand } from './status.js';
import { uploadCommand } from './upload.js';
import { watchCommand } from './watch.js';
import { workCommand } from './work.js';

/** Every command of the CLI, bound to one context. */
export function commands(ctx: CliContext): CommandModule<object, never>[] {
  return [uploadCommand(ctx), serveCommand(ctx), reportCommand(ctx), statusCommand(ctx), migrateCommand(ctx), demoCommand(ctx), planCommand(ctx), workCommand(ctx), watchCommand(ctx)] as unknown as CommandModule<object, never>[];
}
