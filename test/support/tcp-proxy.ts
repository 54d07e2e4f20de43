/**
 * @module test/support/tcp-proxy
 * A TCP proxy a test controls, to put faults between a service and its database: it listens on a free loopback
 * port and forwards every connection to a target (e.g. PostgreSQL on 127.0.0.1:5432) until it is cut.
 *
 * - `cut('refuse')`: every current connection is destroyed and the port is closed, so new connections are refused
 *   (ECONNREFUSED): the database server is down.
 * - `cut('blackhole')`: every current connection is destroyed; new connections are accepted but never forwarded and
 *   never answered: the network drops packets (the client waits for its own timeout).
 * - `cut('partition')`: like a blackhole, but the current connections are not destroyed: they stay open and go
 *   silent both ways (a network partition: the client learns of it only from its own timeouts).
 * - `restore()`: forwards again, on the same port. Held blackholed connections are forwarded from then on; silenced
 *   ones are reset (as after a long partition: what their clients sent and gave up on is not delivered late).
 *
 *   const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 })
 *   // connect to 127.0.0.1:proxy.port ...
 *   await proxy.cut('refuse'); ... await proxy.restore(); ... await proxy.close()
 */
import net from 'node:net'

export type CutMode = 'refuse' | 'blackhole' | 'partition'

export interface TcpProxy {
  /** The loopback port the proxy listens on (the same across cuts and restores). */
  readonly port: number
  /** 'open' while forwarding. */
  readonly state: 'open' | CutMode | 'closed'
  /** Connections accepted so far, and those currently forwarded. */
  readonly stats: { readonly accepted: number; readonly forwarded: number; readonly held: number; readonly silenced: number }
  cut(mode: CutMode): Promise<void>
  restore(): Promise<void>
  /** Stops listening and destroys every connection. */
  close(): Promise<void>
}

const LOOPBACK = '127.0.0.1'

const listen = (server: net.Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => {
      server.off('error', reject)
      resolve()
    })
  })

const closeServer = (server: net.Server): Promise<void> =>
  new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))

export const startTcpProxy = async (target: { readonly host: string; readonly port: number }): Promise<TcpProxy> => {
  if (target.host !== LOOPBACK && target.host !== 'localhost') throw new Error(`tcp-proxy: loopback targets only, not ${target.host}`)
  let state: TcpProxy['state'] = 'open'
  let accepted = 0
  /** Forwarded pairs: client side and upstream side. */
  type Pair = { readonly client: net.Socket; readonly upstream: net.Socket }
  const pairs = new Set<Pair>()
  /** Pairs silenced by a partition: open, but nothing read or written either way. */
  const silenced = new Set<Pair>()
  /** Blackholed client sockets: accepted, never read, never answered. */
  const held = new Set<net.Socket>()

  const forward = (client: net.Socket) => {
    const upstream = net.connect({ host: LOOPBACK, port: target.port })
    const pair: Pair = { client, upstream }
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      silenced.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', drop)
    upstream.on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  }

  const onConnection = (client: net.Socket) => {
    accepted++
    client.setNoDelay(true)
    if (state === 'open') return forward(client)
    // Blackhole (a 'refuse' proxy does not listen, so it gets none): keep the socket, read nothing, say nothing.
    held.add(client)
    client.on('error', () => undefined)
    client.on('close', () => held.delete(client))
  }

  let server = net.createServer(onConnection)
  await listen(server, 0)
  const port = (server.address() as net.AddressInfo).port

  const destroyAll = () => {
    for (const { client, upstream } of [...pairs, ...silenced]) {
      client.destroy()
      upstream.destroy()
    }
    pairs.clear()
    silenced.clear()
    for (const s of held) s.destroy()
    held.clear()
  }

  const proxy: TcpProxy = {
    port,
    get state() {
      return state
    },
    get stats() {
      return { accepted, forwarded: pairs.size, held: held.size, silenced: silenced.size }
    },
    async cut(mode) {
      if (state === 'closed') throw new Error('tcp-proxy: closed')
      state = mode
      if (mode === 'partition') {
        for (const pair of pairs) {
          pair.client.unpipe(pair.upstream)
          pair.upstream.unpipe(pair.client)
          pair.client.pause()
          pair.upstream.pause()
          silenced.add(pair)
        }
        pairs.clear()
      } else {
        destroyAll()
      }
      if (mode === 'refuse') await closeServer(server)
      else if (!server.listening) {
        server = net.createServer(onConnection)
        await listen(server, port)
      }
    },
    async restore() {
      if (state === 'closed') throw new Error('tcp-proxy: closed')
      state = 'open'
      if (!server.listening) {
        server = net.createServer(onConnection)
        await listen(server, port)
      }
      // The network is back: connections that were waiting get through now (those their client gave up are closed).
      for (const { client, upstream } of silenced) {
        client.destroy()
        upstream.destroy()
      }
      silenced.clear()
      const waiting = [...held].filter((s) => !s.destroyed)
      held.clear()
      for (const s of waiting) {
        s.removeAllListeners('error')
        s.removeAllListeners('close')
        forward(s)
      }
    },
    async close() {
      state = 'closed'
      destroyAll()
      await closeServer(server)
    },
  }
  return proxy
}
