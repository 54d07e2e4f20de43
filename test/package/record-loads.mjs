// Preloaded with `node --import` by entries.test.ts: records every module the process loads (the URL of each ESM
// resolution, through a module hook, and each CommonJS file in require's cache), and prints them as JSON at exit.
import { createRequire, register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'

const { port1, port2 } = new MessageChannel()
const loaded = new Set()
port1.on('message', (url) => loaded.add(url))
port1.unref()
register(
  'data:text/javascript,' +
    encodeURIComponent(
      'let port; export const initialize = (d) => { port = d.port };' +
        'export const resolve = async (s, c, next) => { const r = await next(s, c); port.postMessage(r.url); return r }',
    ),
  import.meta.url,
  { data: { port: port2 }, transferList: [port2] },
)

globalThis.reportLoadedModules = async () => {
  // The hook thread's messages arrive asynchronously: give them a turn to land.
  await new Promise((r) => setTimeout(r, 50))
  const cjs = Object.keys(createRequire(import.meta.url).cache)
  process.stdout.write(JSON.stringify([...loaded, ...cjs]))
}
