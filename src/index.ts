/** The package entry (`import { defineTool } from 'hydra-chat'`): what a tools config file needs. */
export { defineAgent, defineTool, type AgentConfig, type ToolContext, type ToolDefinition, type ToolHandler } from './tools/define.js';
