import { test, expect } from "@playwright/test";
import { createHash, createHmac } from "node:crypto";

// scripts/test starts the portal with this bot token, and links the admin's Telegram id.
const TOKEN = process.env.E2E_TELEGRAM_TOKEN ?? "";
const ADMIN_TELEGRAM_ID = process.env.E2E_ADMIN_TELEGRAM_ID ?? "";

/** A Login Widget callback URL signed exactly as Telegram signs it. */
function signedCallback(fields: Record<string, string>): string {
  const check = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join("\n");
  const secret = createHash("sha256").update(TOKEN).digest();
  const hash = createHmac("sha256", secret).update(check).digest("hex");
  return `/auth/telegram/callback?${new URLSearchParams({ ...fields, hash })}`;
}

const now = () => String(Math.floor(Date.now() / 1000));

test.beforeEach(async ({ page }) => {
  test.skip(!TOKEN, "E2E_TELEGRAM_TOKEN is not set");
  // No network here: the official widget script cannot load, and must not slow pages down.
  await page.route("https://telegram.org/**", (route) => route.abort());
});

test("a new Telegram user lands on their account page", async ({ page }, testInfo) => {
  const id = String(7_000_000_000 + Date.now() % 1_000_000_000);
  await page.goto(
    signedCallback({
      id,
      first_name: `Jasur ${testInfo.project.name}`,
      last_name: "Qoʻchqorov",
      username: `jasur_${testInfo.project.name}`,
      auth_date: now(),
    }),
  );
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("h1")).toHaveText(`Jasur ${testInfo.project.name} Qoʻchqorov`);
  await expect(page.locator("#profile")).toContainText(`id ${id}`);
  await expect(page.locator("#my-sessions")).toContainText("Telegram");
});

test("a staff member's Telegram account lands on the dashboard", async ({ page }, testInfo) => {
  test.skip(!ADMIN_TELEGRAM_ID, "E2E_ADMIN_TELEGRAM_ID is not set");
  await page.goto(
    signedCallback({ id: ADMIN_TELEGRAM_ID, first_name: `Admin ${testInfo.project.name}`, auth_date: now() }),
  );
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.locator("h1")).toHaveText("Dashboard");
});

test("a forged callback is refused with its reason", async ({ page }) => {
  const url = signedCallback({ id: "123", first_name: "Eve", auth_date: now() }).replace("Eve", "Mallory");
  const res = await page.goto(url);
  expect(res?.status()).toBe(401);
  await expect(page.locator("#error-message")).toContainText("signature");
});
