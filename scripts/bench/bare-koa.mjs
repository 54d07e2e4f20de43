// Baseline A of `npm run bench`: a bare Koa + @koa/router app answering the token route with a fixed envelope of
// the size the real service answers. It measures the framework's own ceiling on this machine.
import { createServer } from 'node:http'
import Koa from 'koa'
import { Router } from '@koa/router'

const port = Number(process.env.PORT ?? 0)
const basePath = process.env.BASE_PATH ?? '/crmapi/rest/v2'
const body = process.env.FIXED_BODY ?? JSON.stringify({ data: { token: 'x'.repeat(300) }, status: { code: 'OK', description: '', message: '' } })

const app = new Koa()
const router = new Router()
router.post(`${basePath}/authentication/consumer_application_key/token`, (ctx) => {
  ctx.type = 'application/json'
  ctx.body = body
})
app.use(router.routes())
app.use(router.allowedMethods())

const server = createServer(app.callback())
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
