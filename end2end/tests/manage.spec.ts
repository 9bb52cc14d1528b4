import { test, expect, Page } from "@playwright/test";
import {
  ADMIN_PHONE,
  ADMIN_PASSWORD,
  USER_PHONE,
  USER_PASSWORD,
  hydrated,
  signIn,
  waitForHydration,
} from "./helpers";

/** The id of the user with this phone, found the way staff would: the list's search. */
async function userIdByPhone(page: Page, phone: string): Promise<string> {
  await page.goto(`/admin/users?q=${encodeURIComponent(phone)}`);
  const row = page.locator("#users-table tbody tr").first();
  await expect(row).toBeVisible();
  const id = await row.getAttribute("data-user-id");
  expect(id).toBeTruthy();
  return id!;
}

/** Unblocks through the server function itself, so a failed step cannot leave USER blocked
 * for the other specs. */
async function unblock(page: Page, id: string) {
  const res = await page.request.post("/fn/users/unblock", { form: { user_id: id } });
  expect(res.status(), await res.text()).toBe(200);
}

test("blocking a user ends their open session and refuses their sign-in", async ({ browser }, testInfo) => {
  const js = hydrated(testInfo);
  const a = await browser.newContext({ javaScriptEnabled: js });
  const b = await browser.newContext({ javaScriptEnabled: js });
  const admin = await a.newPage();
  const user = await b.newPage();
  await signIn(admin, ADMIN_PHONE, ADMIN_PASSWORD);
  const id = await userIdByPhone(admin, USER_PHONE);
  await signIn(user, USER_PHONE, USER_PASSWORD);
  await user.goto("/account");
  await expect(user.locator("#profile")).toBeVisible();

  try {
    await admin.goto(`/admin/users/${id}/manage`);
    await waitForHydration(admin, testInfo);
    await expect(admin.locator("#manage-status")).toHaveText("Active.");
    await admin.locator("#block-reason").fill(`e2e ${testInfo.project.name}: watching the session end`);
    await admin.locator("#block-submit").click();
    await expect(admin.locator("#manage-status")).toContainText("Blocked since");
    await expect(admin.locator("#unblock-submit")).toBeVisible();

    // B's next click ends on the sign-in page: the session was deleted with the block.
    await user.locator("header a.brand").click();
    await expect(user).toHaveURL(/\/login$/);
    await user.locator("#login-form input[name=phone]").fill(USER_PHONE);
    await user.locator("#login-form input[name=password]").fill(USER_PASSWORD);
    await user.locator("#login-form button[type=submit]").click();
    await expect(user).toHaveURL(/\/login$/);
    await expect(user.locator("#login-flash")).toContainText("blocked");
    await user.goto("/account");
    await expect(user).toHaveURL(/\/login$/);

    // Unblocking from the page works with and without JavaScript.
    await admin.locator("#unblock-submit").click();
    await expect(admin.locator("#manage-status")).toHaveText("Active.");
  } finally {
    await unblock(admin, id);
  }

  await signIn(user, USER_PHONE, USER_PASSWORD);
  await user.goto("/account");
  await expect(user.locator("#profile")).toBeVisible();
  await a.close();
  await b.close();
});

test("a phone that belongs to someone else is refused beside the field", async ({ page }, testInfo) => {
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
  const id = await userIdByPhone(page, USER_PHONE);
  await page.goto(`/admin/users/${id}/manage`);
  await waitForHydration(page, testInfo);
  await page.locator("#edit-phone").fill(ADMIN_PHONE);
  await page.locator("#edit-submit").click();
  const message = `${ADMIN_PHONE} already belongs to another user`;
  if (hydrated(testInfo)) {
    await expect(page.locator("#edit-phone-error")).toContainText(message);
  } else {
    await expect(page).toHaveURL(new RegExp(`/admin/users/${id}/manage$`));
    await expect(page.locator("#flash")).toContainText(`phone: ${message}`);
  }
  // Nothing was written: the form shows USER's own phone again after a reload.
  await page.goto(`/admin/users/${id}/manage`);
  await expect(page.locator("#edit-phone")).toHaveValue(USER_PHONE);
});
