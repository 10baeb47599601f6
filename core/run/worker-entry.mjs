// The pool's workers run from the TypeScript sources too: register tsx's
// loader in this thread (loader hooks are per thread), then load the worker.
import { register } from 'tsx/esm/api'

register()
const { default: runCall } = await import('./worker.ts')
export default runCall
