// The no-op task of bench/piscina-floor.ts.
export default async function noop(task) {
  return { texts: [JSON.stringify(task.inputs)], raw: { inputs: task.inputs } }
}
