// Drives the published @playdotfun/server-sdk against a live Gamekeeper.
//
//   BASE_URL=http://127.0.0.1:8000 API_KEY=... SECRET_KEY=... node tests/e2e/sdk/run.mjs
//
// Prints one JSON object on stdout: what each call returned, or the error it threw
// ({"error": "..."}), so that the Python test can check every step. Exit status 0 whenever the
// script ran to the end; the assertions are the test's.
import { OpenGameClient } from "@playdotfun/server-sdk";

// A valid 1x1 RGB PNG (IHDR, IDAT, IEND with correct CRCs).
const PNG_1X1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC";

const { BASE_URL, API_KEY, SECRET_KEY } = process.env;
if (!BASE_URL || !API_KEY || !SECRET_KEY) {
  console.error("BASE_URL, API_KEY and SECRET_KEY are required");
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
  // SDK 1.0.1 bug: games.get() calls paginatedFetch without a method, and paginatedFetch
  // throws "Only GET requests are supported for paginated fetches" before sending anything.
  // Record that the bug is still there, then list through the SDK's own paginatedFetch with
  // the method it forgot (same URL building, same HMAC signature helper).
  await step("listViaGames", () =>
    client.games.get({ limit: 10, query: "SDK Quest", sortBy: "name", sortDirection: "asc" }),
  );
  await step("list", () =>
    client.paginatedFetch(
      "/games",
      { limit: 10, query: "SDK Quest", sortBy: "name", sortDirection: "asc" },
      { method: "GET", authed: true },
    ),
  );
}

results.gameId = gameId ?? null;
process.stdout.write(JSON.stringify(results) + "\n");
