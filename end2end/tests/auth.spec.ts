import { test, expect } from "@playwright/test";
import { ADMIN_PHONE, ADMIN_PASSWORD, USER_PHONE, USER_PASSWORD, signIn, waitForHydration, hydrated } from "./helpers";

test("anonymous visitors are sent to sign in and come back afterwards", async ({ page }) => {
  await page.goto("/admin/users?source=WEB");
  await expect(page).toHaveURL(/\/login$/);
  await page.locator("#login-form input[name=phone]").fill(ADMIN_PHONE);
  await page.locator("#login-form input[name=password]").fill(ADMIN_PASSWORD);
  await page.locator("#login-form button[type=submit]").click();
  await expect(page).toHaveURL(/\/admin\/users\?source=WEB$/);
  await expect(page.locator("h1")).toHaveText("Users");
});

test("staff signs in, sees the dashboard, and signs out", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.locator("h1")).toHaveText("Dashboard");
  await expect(page.locator("#total-users")).not.toHaveText("0");
  // Hydration must survive the Content-Security-Policy.
  await waitForHydration(page, testInfo);
  if (hydrated(testInfo)) {
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
  }
  await page.locator("#sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator("#login-flash")).toContainText("signed out");
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/login$/);
});

test("a wrong password is refused with the same message as an unknown phone", async ({ page }) => {
  await page.goto("/login");
  await page.locator("#login-form input[name=phone]").fill(ADMIN_PHONE);
  await page.locator("#login-form input[name=password]").fill("definitely-wrong-password");
  await page.locator("#login-form button[type=submit]").click();
  await expect(page.locator("#login-flash")).toHaveText("Wrong phone number or password.");
  await page.locator("#login-form input[name=phone]").fill("+998 99 999 99 99");
  await page.locator("#login-form input[name=password]").fill("definitely-wrong-password");
  await page.locator("#login-form button[type=submit]").click();
  await expect(page.locator("#login-flash")).toHaveText("Wrong phone number or password.");
});

test("a USER gets 403 at /admin", async ({ page }) => {
  await signIn(page, USER_PHONE, USER_PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  const res = await page.goto("/admin");
  expect(res?.status()).toBe(403);
  await expect(page.locator(".error-box h1")).toHaveText("Access denied");
});

test("a session revoked from a second browser is signed out at its next click", async ({ browser }, testInfo) => {
  const js = hydrated(testInfo);
  const a = await browser.newContext({ javaScriptEnabled: js });
  const b = await browser.newContext({ javaScriptEnabled: js });
  const pa = await a.newPage();
  const pb = await b.newPage();
  await signIn(pa, USER_PHONE, USER_PASSWORD);
  await signIn(pb, USER_PHONE, USER_PASSWORD);
  await pb.goto("/account");
  await waitForHydration(pb, testInfo);
  // B revokes every session that is not its own.
  const others = pb.locator("#my-sessions tbody tr").filter({ hasNot: pb.locator(".badge") });
  const before = await others.count();
  expect(before).toBeGreaterThan(0);
  while ((await others.count()) > 0) {
    const n = await others.count();
    await others.first().locator("button").click();
    await expect(others).toHaveCount(n - 1);
  }
  // A's next click (a link to another page: with JavaScript a client-side navigation whose
  // server call now answers 401) ends on the sign-in page.
  await pa.locator("header a.brand").click();
  await expect(pa).toHaveURL(/\/login$/);
  await a.close();
  await b.close();
});
