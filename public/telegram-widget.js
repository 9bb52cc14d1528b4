// The Telegram Login Widget's JavaScript callback mode: the widget hands over the signed
// user object, which is posted unchanged (as the JSON the widget produced) to the portal.
// The portal verifies it; this file only carries it and shows the answer.
window.portalTelegramAuth = function (user, link) {
  var status = document.getElementById("telegram-link-status");
  var body = new URLSearchParams({ payload: JSON.stringify(user), link: link ? "true" : "false" });
  fetch("/fn/telegram/widget", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: body,
  })
    .then(function (res) {
      return res.json().then(function (data) {
        if (res.ok) {
          window.location.assign(typeof data === "string" ? data : "/account");
        } else if (status) {
          status.hidden = false;
          status.textContent = (data && data.Conflict) || (data && data.BadRequest) ||
            (data && data.Rejected) || "Telegram sign-in failed (" + res.status + ").";
        }
      });
    })
    .catch(function () {
      if (status) {
        status.hidden = false;
        status.textContent = "The portal could not be reached; try again.";
      }
    });
};
