import { test, expect, Page, APIRequestContext, TestInfo } from "@playwright/test";
import {
  ADMIN_PHONE,
  ADMIN_PASSWORD,
  USER_PHONE,
  USER_PASSWORD,
  hydrated,
  signIn,
  waitForHydration,
} from "./helpers";

async function changePassword(page: Page, testInfo: TestInfo, current: string, next: string) {
  await page.goto("/account/password");
  await waitForHydration(page, testInfo);
  const form = page.locator("#password-form");
  await form.locator("input[name=current_password]").fill(current);
  await form.locator("input[name=new_password]").fill(next);
  await form.locator("input[name=confirm]").fill(next);
  await form.locator("button[type=submit]").click();
}

async function signOut(page: Page) {
  await page.locator("#sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Puts USER_PASSWORD back through the plain HTTP endpoints, whatever state the page is in. */
async function restore(request: APIRequestContext, baseURL: string, changedTo: string) {
  const headers = { Origin: new URL(baseURL).origin };
  const login = await request.post("/login", {
    form: { phone: USER_PHONE, password: changedTo },
    headers,
    maxRedirects: 0,
  });
  if (login.status() !== 303 || (login.headers()["location"] ?? "").includes("/login")) {
    return; // the new password is not (or no longer) the current one
  }
  await request.post("/fn/account/change_password", {
    form: { current_password: changedTo, new_password: USER_PASSWORD, confirm: USER_PASSWORD },
    headers,
  });
}

test("a person changes their own password, signs in with it, and changes it back", async ({
  page,
  playwright,
  baseURL,
}, testInfo) => {
  // Each run (js, nojs) uses its own new password, so a leftover of one cannot pass the other.
  const changed = `${USER_PASSWORD}-${testInfo.project.name}-changed`;
  let restored = false;
  try {
    await signIn(page, USER_PHONE, USER_PASSWORD);
    await page.goto("/account");
    await page.locator("#change-password").click();
    await expect(page).toHaveURL(/\/account\/password$/);
    await waitForHydration(page, testInfo);

    // A wrong current password is refused, naming the field.
    const form = page.locator("#password-form");
    await form.locator("input[name=current_password]").fill("not-my-password-at-all");
    await form.locator("input[name=new_password]").fill(changed);
    await form.locator("input[name=confirm]").fill(changed);
    await form.locator("button[type=submit]").click();
    await expect(page.locator("#action-error, #flash")).toContainText("current_password");
    await expect(page).toHaveURL(/\/account\/password$/);

    await changePassword(page, testInfo, USER_PASSWORD, changed);
    await expect(page).toHaveURL(/\/account$/);
    if (!hydrated(testInfo)) {
      // Hydrated, the message belongs to the page left behind; without JavaScript it
      // comes along as the flash.
      await expect(page.locator("#flash")).toContainText("Password changed");
    }

    await signOut(page);
    // The old password no longer works; the new one does.
    await page.locator("#login-form input[name=phone]").fill(USER_PHONE);
    await page.locator("#login-form input[name=password]").fill(USER_PASSWORD);
    await page.locator("#login-form button[type=submit]").click();
    await expect(page).toHaveURL(/\/login$/);
    await signIn(page, USER_PHONE, changed);
    await expect(page).toHaveURL(/\/account$/);

    await changePassword(page, testInfo, changed, USER_PASSWORD);
    await expect(page).toHaveURL(/\/account$/);
    await signOut(page);
    await signIn(page, USER_PHONE, USER_PASSWORD);
    await expect(page).toHaveURL(/\/account$/);
    restored = true;
  } finally {
    // Other specs sign in as this person: a failure half-way must not leave them locked out.
    if (!restored) {
      const request = await playwright.request.newContext({ baseURL });
      await restore(request, baseURL!, changed);
      await request.dispose();
    }
  }
});

test("the audit log lists staff actions and filters them by type", async ({ page }, testInfo) => {
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
  // An export is a staff action that changes nothing.
  const csv = await page.request.get("/admin/users/export.csv?per_page=1&region=UZ");
  expect(csv.status()).toBe(200);

  await page.goto("/admin/audit");
  await waitForHydration(page, testInfo);
  const rows = page.locator("#audit-table tbody tr");
  await expect(rows.first()).toBeVisible();
  const exportRow = rows.filter({ has: page.locator("code", { hasText: /^ADMIN_EXPORT$/ }) }).first();
  await expect(exportRow).toBeVisible();
  await expect(exportRow.locator("a.actor")).toHaveAttribute("href", /\/admin\/users\//);

  await page.locator("#audit-filters select[name=type]").selectOption("ADMIN_EXPORT");
  await page.locator("#audit-filters button[type=submit]").click();
  await expect(page).toHaveURL(/type=ADMIN_EXPORT/);
  await expect(rows.first()).toBeVisible();
  const types = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-event-type")));
  expect(types.length).toBeGreaterThan(0);
  expect(new Set(types)).toEqual(new Set(["ADMIN_EXPORT"]));

  const res = await page.goto("/admin/audit?from=2024-1-1");
  expect(res?.status()).toBe(400);
  await expect(page.locator("#error-message")).toContainText("from");
});

test("the staff page lists the admin with role and last sign-in", async ({ page }) => {
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
  await page.goto("/admin/staff");
  const me = page.locator("#staff-table tbody tr", { hasText: ADMIN_PHONE });
  await expect(me).toHaveCount(1);
  await expect(me.locator("td.role")).toHaveText("Super admin");
  await expect(me.locator("td.last-sign-in")).not.toHaveText("never");
  await expect(me.locator(".badge", { hasText: "you" })).toBeVisible();
  await expect(page.locator("#grant-form")).toBeVisible();
});
