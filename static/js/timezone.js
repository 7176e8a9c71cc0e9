// Tells the server the browser's time zone, so that pages show times in it (mitel_portal/middleware.py
// TimezoneMiddleware, which checks the name against zoneinfo). A cookie, not a request of its own:
// the next page the person opens carries it.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var current = document.cookie.split('; ').filter(function (c) { return c.indexOf('mitel_tz=') === 0; })[0];
  if (current !== 'mitel_tz=' + zone) {
    document.cookie = 'mitel_tz=' + zone + '; path=/; max-age=31536000; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '');
  }
})();
