// A real OpenID provider for tests/server/test_oidc.py (the npm package oidc-provider).
//
//   node provider.mjs --redirect-uri http://127.0.0.1/masuk/oidc/callback \
//        --accounts accounts.json --issuer-file issuer.txt [--client-id ID --client-secret SECRET]
//
// Listens on a free port on 127.0.0.1 and writes its issuer URL to --issuer-file once it answers.
// One static client; its redirect URI is a loopback address whose port may differ (RFC 8252 7.3,
// `application_type: native`), because the quiz server under test picks its own free port.
// Accounts are read from --accounts on every login: {"<sub>": {"nip": ..., "name": ..., ...}},
// so a test can change a claim between two logins. devInteractions is on (its built-in login form:
// any password, the login field names the account); consent is implied for this one client.
import { writeFileSync, readFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    'redirect-uri': { type: 'string' },
    accounts: { type: 'string' },
    'issuer-file': { type: 'string' },
    'client-id': { type: 'string', default: 'netralitas' },
    'client-secret': { type: 'string', default: 'rahasia-klien-uji-oidc' },
  },
});
for (const required of ['redirect-uri', 'accounts', 'issuer-file']) {
  if (!args[required]) {
    console.error(`--${required} is required`);
    process.exit(2);
  }
}

const readAccounts = () => JSON.parse(readFileSync(args.accounts, 'utf8'));

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      application_type: 'native',
      redirect_uris: [args['redirect-uri']],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    claims: {
      openid: ['sub'],
      profile: ['name', 'nip', 'unit', 'instansi'],
      email: ['email', 'email_verified'],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['uji-oidc-kunci-cookie'] },
    async findAccount(_ctx, id) {
      const claims = readAccounts()[id];
      if (!claims) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    // A first-party client of the agency: no consent screen.
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  const tmp = `${args['issuer-file']}.tmp`;
  writeFileSync(tmp, issuer);
  renameSync(tmp, args['issuer-file']); // the test never reads a half-written file
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
