// Peer P of `npm run bench`: node-oidc-provider (panva/node-oidc-provider, a dev dependency only) issuing access
// tokens with the client_credentials grant, as JWTs signed with HS256. One confidential client, authenticated with
// client_secret_basic; the resource indicator is defaulted, so the request is `grant_type=client_credentials&scope=...`.
// The provider keeps its default in-memory adapter (a JWT access token is not stored in it) and everything the grant
// does not need is off. oidc-provider 9 warns "Unsupported runtime" on stderr under Node 20 (it asks for Node 22 LTS or
// later) but runs the grant unchanged; the warning and the in-memory adapter's notice only reach the bench on a crash.
import { createServer } from 'node:http'
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import Provider from 'oidc-provider'

const port = Number(process.env.PORT ?? 0)
const issuer = process.env.ISSUER ?? `http://127.0.0.1:${port}`
const clientId = process.env.CLIENT_ID ?? 'bench-peer'
const clientSecret = process.env.CLIENT_SECRET ?? 'bench-peer-secret-0123456789abcdef'
const resource = process.env.RESOURCE ?? 'https://api.bench.example'
const scope = process.env.SCOPE ?? 'api:read'

// The HS256 key the access tokens are signed with: a symmetric key of the resource server, not the client secret.
const accessTokenKey = createSecretKey(randomBytes(32))
// The provider's own keystore needs a key for its default id_token algorithm (RS256); no id_token is issued here.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'peer-1', alg: 'RS256', use: 'sig' }

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: [scope],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    userinfo: { enabled: false },
    rpInitiatedLogout: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new Provider.errors.InvalidTarget()
        return {
          scope,
          audience: resource,
          accessTokenTTL: 2 * 60 * 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'HS256', key: accessTokenKey } },
        }
      },
    },
  },
})

const server = createServer(provider.callback())
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
