// Worker entry: registers tsx's loader in this thread, then runs the TypeScript worker. (Node 20 does not
// pass the parent's --import hooks to worker threads.)
import { register } from 'tsx/esm/api';
register();
await import('./generate-worker.js');
