/**
 * `hydra-chat config`: the settings a chat would run with, merged from flags, the project file (the agent
 * config), the user file and the built-in defaults, each with where it came from.
 */
import type { Command } from 'commander';
import { findDefaultToolsFile } from '../tools/files.js';
import type { Output } from '../ui/output.js';
import { cleanField } from '../ui/sanitize.js';
import { AGENT_KEYS, resolveSettings, type Source } from './merge.js';
import { SETTING_KEYS, flagOf, loadUserSettings, userConfigPath, type SettingKey, type Settings } from './settings.js';

export function registerConfigCommand(command: Command, context: { output: () => Output }): void {
  command
    .description('show the settings a chat would use and where each comes from (flags, project file, user file, defaults)')
    .addHelpText(
      'after',
      `
Flags go before the command: hydra-chat --voice aria config
User file: $XDG_CONFIG_HOME/hydra-chat/config.json (default ~/.config/hydra-chat/config.json), e.g.
  { "voice": "aria", "inputDevice": "USB", "echoGuard": false }
keys: ${Object.keys(SETTING_KEYS).join(', ')}`,
    )
    .action(async (_options: unknown, self: Command) => {
      const out = context.output();
      const program = self.parent!;
      const flags: Settings = {};
      for (const key of Object.keys(SETTING_KEYS) as SettingKey[]) {
        if (program.getOptionValueSource(key) === 'cli') (flags as Record<string, unknown>)[key] = program.opts()[key];
      }
      const userPath = userConfigPath(process.env);
      const user = await loadUserSettings(process.env);
      const toolsFlag = program.opts<{ tools?: string }>().tools;
      const projectPath = toolsFlag ?? findDefaultToolsFile(process.cwd()) ?? undefined;
      const project: Settings = {};
      if (projectPath !== undefined) {
        const agent = await (await import('../tools/index.js')).loadAgentConfig(projectPath);
        for (const key of AGENT_KEYS) if (agent[key] !== undefined) (project as Record<string, unknown>)[key] = agent[key];
      }
      const rows = resolveSettings({ flags, project, user: user?.settings ?? {} });
      const where: Record<Source, string> = {
        flag: 'flag',
        project: `project file ${projectPath ?? ''}`,
        user: `user file ${userPath}`,
        default: 'built-in default',
      };
      out.json({
        event: 'config',
        files: { user: userPath, userExists: user !== null, project: projectPath ?? null },
        settings: Object.fromEntries(rows.map((row) => [row.key, { value: row.value ?? null, shown: row.shown, source: row.source }])),
      });
      const width = Math.max(...rows.map((row) => flagOf(row.key).length));
      // Values come from files (a project file in a cloned directory is anyone's): cleaned, one line each.
      const shown = rows.map((row) => cleanField(row.shown, 200));
      const valueWidth = Math.min(48, Math.max(...shown.map((value) => value.length)));
      for (const [index, row] of rows.entries()) {
        const source = row.source === 'default' ? out.chalk.dim(where.default) : cleanField(where[row.source]);
        out.line(`${flagOf(row.key).padEnd(width)}  ${shown[index]!.padEnd(valueWidth)}  ${source}`);
      }
      out.line('');
      out.line(out.chalk.dim(cleanField(`user file:    ${userPath}${user === null ? ' (none)' : ''}`)));
      out.line(out.chalk.dim(cleanField(`project file: ${projectPath ?? '(none: hydra.tools.{ts,mts,js,mjs,json} here, or --tools)'} — sets voice, model, greet`)));
    });
}
