/**
 * The `ws` package, loaded through require(). Imported as ESM, ws goes through its ESM wrapper
 * and Node's CommonJS-to-ESM translation, and the main process peaked 4.5 MB higher for it
 * (measured on Node 20 with `hydra-chat --input … --output …`; see bench/results.md §5). The classes
 * and their types are the same either way.
 */
import { createRequire } from 'node:module';
import type { WebSocket as WebSocketClass, WebSocketServer as WebSocketServerClass } from 'ws';

const ws = createRequire(import.meta.url)('ws') as { WebSocket: typeof WebSocketClass; WebSocketServer: typeof WebSocketServerClass };

export const WebSocket = ws.WebSocket;
export type WebSocket = WebSocketClass;
export const WebSocketServer = ws.WebSocketServer;
export type WebSocketServer = WebSocketServerClass;
