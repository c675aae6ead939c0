// A local OpenID provider for the reviews web tests: oidc-provider with its development
// login pages, which accept any login name and password.
//
// The login name selects the signed-in account, so one provider serves every test user:
// `<oid>` or `<oid>;tid=<tenant guid>;roles=<role>,<role>`. The ID token then carries
// `oid` and `tid` as Entra ID sends them, and `roles` as Entra app roles.
//
// Environment: ISSUER_HOST (default 127.0.0.1), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// DEFAULT_TID (the tid of logins that name none), ISSUER (the issuer to announce instead
// of this server's own address, for a test proxy in front of it that passes the Host
// header through). Listens on a free loopback port and prints `listening <issuer>` on
// stdout once it accepts requests, or `listening <issuer> at <address>` with ISSUER.
import http from 'node:http';
import Provider from 'oidc-provider';

const clientId = process.env.CLIENT_ID || 'rollcall-reviews';
const clientSecret = process.env.CLIENT_SECRET || 'test-secret';
const redirectUris = (process.env.REDIRECT_URI || 'http://127.0.0.1:8080/auth/callback').split(' ');
const defaultTid = process.env.DEFAULT_TID || '';
const issuerHost = process.env.ISSUER_HOST || '127.0.0.1';
const issuerOverride = process.env.ISSUER || '';

function parseLogin(login) {
  const [oid, ...options] = login.split(';');
  const claims = { oid, tid: defaultTid, roles: [] };
  for (const option of options) {
    const [key, value] = option.split('=');
    if (key === 'tid') claims.tid = value;
    if (key === 'roles') claims.roles = value ? value.split(',') : [];
  }
  return claims;
}

// The port is known only after listening, and the issuer contains it, so the server
// listens first and builds the provider afterwards.
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const address = `http://${issuerHost}:${port}`;
  const issuer = issuerOverride || address;
  const provider = new Provider(issuer, {
    // A second client with the same redirect URI, whose codes and tokens are for
    // another audience than the app's.
    clients: [clientId, 'other-client'].map((id) => ({
      client_id: id,
      client_secret: id === clientId ? clientSecret : 'other-secret',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    async findAccount(ctx, id) {
      const parsed = parseLogin(id);
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            oid: parsed.oid,
            tid: parsed.tid,
            roles: parsed.roles,
            preferred_username: `${parsed.oid}@example.test`,
          };
        },
      };
    },
    claims: { openid: ['sub', 'oid', 'tid', 'roles', 'preferred_username'] },
    // ID tokens carry the claims themselves, as Entra's do, not only the userinfo endpoint.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['test-cookie-key'] },
  });
  server.on('request', provider.callback());
  console.log(issuerOverride ? `listening ${issuer} at ${address}` : `listening ${issuer}`);
});
