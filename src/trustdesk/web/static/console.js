// Times are shown in the viewer's zone: tell the server which one this browser is in.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("td_tz=" + zone) === -1) {
    document.cookie = "td_tz=" + zone + "; path=/; samesite=lax; max-age=31536000";
  }
})();
