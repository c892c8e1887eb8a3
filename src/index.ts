/**
 * The package entry (`import { defineAgent, defineTool, z } from 'hydra-chat'`): what a tools config
 * file needs, zod included, so a `hydra.tools.ts` works without installing zod next to it.
 */
export { defineAgent, defineTool, type AgentConfig, type ToolContext, type ToolDefinition, type ToolHandler } from './tools/define.js';
export { z } from 'zod';
