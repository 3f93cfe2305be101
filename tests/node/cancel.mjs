// Drives ordergate with Mesh's official Node client, exactly as an application would.
//
// Input (JSON on stdin):
//   { baseURL, clientId, clientSecret, userId, authToken,
//     cancelOrderId, unknownOrderId, wrongSecretOrderId, authOrderId, refreshOrderId,
//     account: { username, password }, listAuthToken }
// Output (JSON on stdout): one `{threw, httpStatus, data, ...}` record per step, keyed by step name.
// Exits non-zero only if the script itself breaks (bad input, client API missing); HTTP outcomes are data
// for the pytest side to judge.

import { FrontApi } from '@meshconnect/node-api';

const TYPE = 'kraken';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function client(baseURL, clientId, clientSecret) {
  // Static headers in the constructor: what Mesh's own sample app (mesh-explorer-js) does.
  return new FrontApi({
    baseURL,
    headers: { 'X-Client-Id': clientId, 'X-Client-Secret': clientSecret },
    timeout: 20000,
  });
}

// Runs one call; a non-2xx answer makes the client throw (axios default validateStatus), which is recorded.
async function step(call) {
  try {
    const res = await call();
    return { threw: false, httpStatus: res.status, data: res.data };
  } catch (err) {
    return {
      threw: true,
      errorName: err?.name ?? null,
      isAxiosError: err?.isAxiosError === true,
      code: err?.code ?? null,
      message: String(err?.message ?? err),
      httpStatus: err?.response?.status ?? null,
      data: err?.response?.data ?? null,
    };
  }
}

function cancelBody(authToken, id) {
  return { authToken, type: TYPE, id, isCryptocurrency: true };
}

async function main() {
  const cfg = await readStdin();
  const api = client(cfg.baseURL, cfg.clientId, cfg.clientSecret);
  const wrong = client(cfg.baseURL, cfg.clientId, cfg.clientSecret + 'x');
  const out = {};

  out.cancel = await step(() =>
    api.transactions.v1TransactionsCancelCreate(cancelBody(cfg.authToken, cfg.cancelOrderId)),
  );

  out.wrongSecret = await step(() =>
    wrong.transactions.v1TransactionsCancelCreate(cancelBody(cfg.authToken, cfg.wrongSecretOrderId)),
  );

  out.unknownOrder = await step(() =>
    api.transactions.v1TransactionsCancelCreate(cancelBody(cfg.authToken, cfg.unknownOrderId)),
  );

  out.authenticate = await step(() =>
    api.selfManagedAccountAuthentication.v1AuthenticateCreate(
      { userId: cfg.userId },
      { type: TYPE, username: cfg.account.username, password: cfg.account.password },
    ),
  );

  const accessToken = out.authenticate.data?.content?.accountTokens?.[0]?.accessToken;
  out.cancelWithAccessToken =
    typeof accessToken === 'string' && accessToken.length > 0
      ? await step(() =>
          api.transactions.v1TransactionsCancelCreate(cancelBody(accessToken, cfg.authOrderId)),
        )
      : { skipped: true, reason: 'authenticate returned no accessToken' };

  // Mesh's account-management reads and token refresh, through the client's own methods.
  out.status = await step(() => api.managedAccountAuthentication.v1StatusList());
  out.integrations = await step(() => api.managedAccountAuthentication.v1IntegrationsList());
  out.authenticationSchemes = await step(() =>
    api.selfManagedAccountAuthentication.v1AuthenticationSchemesList(),
  );
  out.statusWrongSecret = await step(() => wrong.managedAccountAuthentication.v1StatusList());
  out.tokenRefresh = await step(() =>
    api.managedAccountAuthentication.v1TokenRefreshCreate({ type: TYPE, refreshToken: cfg.authToken }),
  );
  const refreshed = out.tokenRefresh.data?.content?.brokerAccountTokens?.[0]?.accessToken;
  out.cancelWithRefreshedToken =
    typeof refreshed === 'string' && refreshed.length > 0
      ? await step(() => api.transactions.v1TransactionsCancelCreate(cancelBody(refreshed, cfg.refreshOrderId)))
      : { skipped: true, reason: 'token/refresh returned no accessToken' };
  out.tokenRefreshUnopenable = await step(() =>
    api.managedAccountAuthentication.v1TokenRefreshCreate({ type: TYPE, refreshToken: 'ogt1.x.AAAA' }),
  );

  // POST /api/v1/transactions/list through the client's own method: two pages by cursor, a statuses filter, a cursor
  // sent with another account's token, and a count over Mesh's maximum.
  const list = (body) => api.transactions.v1TransactionsListCreate({ type: TYPE, ...body });
  out.listFirst = await step(() => list({ authToken: cfg.listAuthToken, count: 2 }));
  const cursor = out.listFirst.data?.content?.cursor;
  out.listNext =
    typeof cursor === 'string' && cursor.length > 0
      ? await step(() => list({ authToken: cfg.listAuthToken, count: 2, cursor }))
      : { skipped: true, reason: 'the first page had no cursor' };
  out.listOpen = await step(() =>
    list({ authToken: cfg.listAuthToken, statuses: ['inProgress', 'partiallyFilled'] }),
  );
  out.listForeignCursor = await step(() => list({ authToken: cfg.authToken, count: 2, cursor: cursor ?? '' }));
  out.listCountTooLarge = await step(() => list({ authToken: cfg.listAuthToken, count: 251 }));

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`cancel.mjs failed: ${err?.stack ?? err}\n`);
  process.exit(2);
});
