// Drives the published @playdotfun/server-sdk against a live Gamekeeper: every method it has.
//
//   BASE_URL=http://127.0.0.1:8000 API_KEY=... SECRET_KEY=... ADMIN_TOKEN=... \
//   SESSION_TOKEN=... OTHER_USER_ID=... node tests/e2e/sdk/run.mjs
//
// Prints one JSON object on stdout: what each call returned, or the error it threw
// ({"error": "..."}), so that the Python test can check every step. Exit status 0 whenever the
// script ran to the end; the assertions are the test's. SESSION_TOKEN is a player's session
// token (for play.validateSessionToken), OTHER_USER_ID another developer (for users.getById),
// ADMIN_TOKEN associates a token with the game (the SDK cannot) for the by-token reads.
import { OpenGameClient } from "@playdotfun/server-sdk";

// A valid 1x1 RGB PNG (IHDR, IDAT, IEND with correct CRCs).
const PNG_1X1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC";
const TOKEN_ADDRESS = "SdkQuestMint1111111111111111111111111111111";

const { BASE_URL, API_KEY, SECRET_KEY, ADMIN_TOKEN, SESSION_TOKEN, OTHER_USER_ID } = process.env;
if (!BASE_URL || !API_KEY || !SECRET_KEY || !ADMIN_TOKEN || !SESSION_TOKEN || !OTHER_USER_ID) {
  console.error("BASE_URL, API_KEY, SECRET_KEY, ADMIN_TOKEN, SESSION_TOKEN, OTHER_USER_ID are required");
  process.exit(2);
}

const client = new OpenGameClient({ apiKey: API_KEY, secretKey: SECRET_KEY, baseUrl: BASE_URL });
const results = {};

// The SDK's fetch returns the response body as is; Gamekeeper (as the hosted API) wraps it
// in {"data": ..., "error": null}. Keep both: the body for the envelope, data for the checks.
async function step(name, call) {
  try {
    const body = await call();
    results[name] = { ok: true, body };
  } catch (error) {
    results[name] = { ok: false, error: String(error?.message ?? error), status: error?.status };
  }
  return results[name];
}

const data = (result) => (result.ok && result.body && "data" in result.body ? result.body.data : null);

const registered = await step("register", () =>
  client.games.register({
    name: "SDK Quest",
    description: "Registered by @playdotfun/server-sdk",
    gameUrl: "https://sdk-quest.example.com/play",
    platform: "web",
    isHtmlGame: true,
    iframable: true,
    twitter: "sdkquest",
    maxScorePerSession: 500,
    base64Image: `data:image/png;base64,${PNG_1X1}`,
  }),
);
const gameId = data(registered)?.id;

if (gameId) {
  await step("getById", () => client.games.getById({ gameId }));
  await step("update", () =>
    client.games.update({
      gameId,
      platform: "web",
      name: "SDK Quest II",
      description: "Updated by the SDK",
      discord: "https://discord.gg/sdkquest",
      maxScorePerSession: 750,
    }),
  );
  await step("getByIdAfterUpdate", () => client.games.getById({ gameId }));
  await step("batch", () => client.games.getManyByIds({ gameIds: [gameId] }));

  // SDK 1.0.1 bugs: games.get() and games.getAuthedGames() call paginatedFetch without a
  // method, and paginatedFetch throws "Only GET requests are supported for paginated
  // fetches" before sending anything; games.claimOwnership() throws "Not implemented".
  // Record that they still throw, then list through the SDK's own paginatedFetch with the
  // method it forgot (same URL building, same HMAC signature helper).
  await step("listViaGames", () =>
    client.games.get({ limit: 10, query: "SDK Quest", sortBy: "name", sortDirection: "asc" }),
  );
  await step("getAuthedGames", () => client.games.getAuthedGames({ limit: 10, sort: "desc" }));
  await step("claimOwnership", () => client.games.claimOwnership({ gameId }));
  await step("list", () =>
    client.paginatedFetch(
      "/games",
      { limit: 10, query: "SDK Quest", sortBy: "name", sortDirection: "asc" },
      { method: "GET", authed: true },
    ),
  );
  // The SDK's low-level fetch, unsigned, on the OGP path of a game by id.
  await step("fetch", () => client.fetch(`/games/id/${gameId}`));

  // Tokens are associated by the operator (admin API), not through the SDK.
  await step("associateToken", async () => {
    const response = await fetch(`${BASE_URL}/admin/v1/games/${gameId}/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ tokenAddress: TOKEN_ADDRESS, symbol: "SDKQ", chain: "solana" }),
    });
    if (!response.ok) throw new Error(await response.text());
    return await response.json();
  });
  await step("getByTokenId", () => client.games.getByTokenId({ tokenId: TOKEN_ADDRESS }));
  await step("getByBatchTokenIds", () =>
    client.games.getByBatchTokenIds({ tokenIds: [TOKEN_ADDRESS, "UnknownMint"] }),
  );

  // Points: maxScorePerSession is 750 since the update; 900 is clipped to it.
  await step("savePoints", () => client.play.savePoints({ gameId, playerId: "player-1", points: 120 }));
  await step("batchSavePoints", () =>
    client.play.batchSavePoints({ gameId, pointsRecord: { "player-1": 30, "player-2": 900 } }),
  );
  await step("batchSavePointsList", () =>
    client.play.batchSavePoints({ gameId, pointsRecord: [{ playerId: "player-3", points: 5 }] }),
  );
  await step("getPoints", () => client.play.getPoints({ gameId, playerId: "player-1" }));
  await step("getPointsUnknownPlayer", () => client.play.getPoints({ gameId, playerId: "nobody" }));
  await step("getLeaderboard", () => client.play.getLeaderboard({ gameId }));
}

await step("validateSessionToken", () => client.play.validateSessionToken(SESSION_TOKEN));
await step("validateForgedSessionToken", () => client.play.validateSessionToken("not.a.token"));
await step("me", () => client.users.me());
await step("getUserSelf", () => client.users.getById({ userId: API_KEY }));
await step("getUserOther", () => client.users.getById({ userId: OTHER_USER_ID }));
await step("getUserUnknown", () =>
  client.users.getById({ userId: "00000000-0000-4000-8000-000000000000" }),
);

results.gameId = gameId ?? null;
process.stdout.write(JSON.stringify(results) + "\n");
