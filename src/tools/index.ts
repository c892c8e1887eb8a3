/** The tools feature's public surface: authoring, loading, running, hot reload and the CLI command. */
export { defineAgent, defineTool, type AgentConfig, type ToolContext, type ToolDefinition, type ToolHandler } from './define.js';
export { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, findDefaultToolsFile, loadAgentConfig, validateAgentConfig, type LoadedAgent, type LoadedTool, type LoadOptions, type ToolKind } from './config.js';
export { createToolRunner, DEFAULT_MAX_OUTPUT_BYTES, type AgentToolRunner } from './run.js';
export { watchAgentConfig, type ReloadResult } from './watch.js';
export { attachTools, toolLogLine } from './attach.js';
export { registerToolsCommand, type ToolsCommandIo } from './command.js';
