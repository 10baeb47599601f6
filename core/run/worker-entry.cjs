// The pool's workers run from the TypeScript sources too. This entry is CommonJS so that
// piscina's require() loads it directly: require() of an ES module with top-level await
// has crashed Node 20 outright when a replacement worker started.
let ready

module.exports = async function runCallOnWorker(call) {
  // loader hooks are per thread: register tsx's in this one, then import the worker
  ready ??= import('tsx/esm/api')
    .then(({ register }) => {
      register()
      return import('./worker.ts')
    })
    .then((mod) => mod.default)
  return (await ready)(call)
}
