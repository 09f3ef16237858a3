// Times are shown in the viewer's zone: tell the server which one this browser is in.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("td_tz=" + zone) === -1) {
    document.cookie = "td_tz=" + zone + "; path=/; samesite=lax; max-age=31536000";
  }
})();

// Keyboard shortcuts for the frequent moves (issue #18), listed on "?": j/k move through the
// rows of a table marked data-rows, Enter/o opens one, x selects it; any element marked
// data-key="c" (claim), "d" (decide), "e" (escalate), "/" (search) is clicked or focused;
// r reveals the next blurred media item. Nothing fires while the person types in a field.
(function () {
  var current = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    var table = document.querySelector("table[data-rows]");
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : [];
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    if (current >= 0 && all[current]) all[current].classList.remove("current");
    current = Math.max(0, Math.min(all.length - 1, current + step));
    all[current].classList.add("current");
    all[current].setAttribute("aria-current", "true");
    var link = all[current].querySelector("a");
    if (link) link.focus();
  }

  function act(key) {
    var target = document.querySelector('[data-key="' + key + '"]');
    if (!target) return false;
    if (target.tagName === "BUTTON" || target.tagName === "A") target.click();
    else {
      var details = target.closest("details");
      if (details) details.open = true;
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input:not([type=hidden]), select, textarea, button");
      (field || target).focus();
      target.scrollIntoView({ block: "center" });
    }
    return true;
  }

  function reveal() {
    var hidden = document.querySelector("figure.media.blur:not(.revealed), figure.media.grey:not(.revealed)");
    if (hidden) {
      hidden.classList.add("revealed");
      hidden.scrollIntoView({ block: "center" });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var dialog = document.getElementById("shortcuts");
    var all = rows();
    switch (event.key) {
      case "?":
        if (dialog && dialog.showModal) dialog.open ? dialog.close() : dialog.showModal();
        break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o":
      case "Enter":
        if (current < 0 || !all[current] || event.target.tagName === "A" && event.key === "Enter") return;
        window.location.href = all[current].getAttribute("data-href");
        break;
      case "x":
        if (current < 0 || !all[current]) return;
        var box = all[current].querySelector('input[type="checkbox"]');
        if (box) box.checked = !box.checked;
        break;
      case "r": reveal(); break;
      case "c": case "d": case "e": case "/":
        if (!act(event.key)) return;
        break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches("[data-select-all]")) return;
    var table = event.target.closest("table");
    table.querySelectorAll('tbody input[type="checkbox"]').forEach(function (box) { box.checked = event.target.checked; });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-reveal]");
    if (button) button.closest("figure").classList.add("revealed");
  });
})();
