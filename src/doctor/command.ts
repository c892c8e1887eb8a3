import type { Command } from 'commander';
import type { Output } from '../ui/output.js';
export function registerDoctorCommand(command: Command, context: { output: () => Output; signal: AbortSignal; setExit: (code: number) => void }): void {
  command.description('check what live chat needs');
  void context;
}
