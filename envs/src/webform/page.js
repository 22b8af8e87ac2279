// The widgets of a teachgym web form, as the simulator (envs/src/webform/form.rs) defines them,
// and `window.teachgym`, through which a test or the browser env reads the page's state back.
// The DOM is the state: inputs hold their text, boxes their ticks; an autocomplete's picked
// option is its `data-committed` attribute. See html.rs for the page's layout.
(function () {
  "use strict";
  var spec = JSON.parse(document.getElementById("teachgym-form").textContent);
  var widgetLevel = spec.level === "widget";
  var page = spec.page;
  var popup = null; // {kind, widget, month, items, element}
  var ended = null; // null, "success" or "failure"
  // A Next was refused on this page: its empty required widgets show as invalid
  // (aria-invalid, kept live by refreshMarks), as a browser shows its validation message.
  var validationShown = spec.validation_shown;

  function widgetElements(w) {
    return document.querySelectorAll('[data-widget="' + w + '"]');
  }
  function input(w) {
    return widgetElements(w)[0];
  }
  function section(p) {
    return document.querySelector('section[data-page="' + p + '"]');
  }

  // "14 may 2026" -> {month: months since year 0, day}, or null.
  function parseDate(text) {
    var m = /^(\d{1,2}) ([a-z]+) (\d{4})$/.exec(text);
    if (!m) return null;
    var month = spec.months.indexOf(m[2]);
    var day = parseInt(m[1], 10);
    if (month < 0 || day < 1) return null;
    var mi = parseInt(m[3], 10) * 12 + month;
    if (day > daysInMonth(mi)) return null;
    return { month: mi, day: day };
  }
  function dateText(d) {
    return d.day + " " + spec.months[d.month % 12] + " " + Math.floor(d.month / 12);
  }
  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = "0" + s;
    return s;
  }
  function monthIso(mi) {
    return pad(Math.floor(mi / 12), 4) + "-" + pad((mi % 12) + 1, 2);
  }
  function daysInMonth(mi) {
    var year = Math.floor(mi / 12);
    var month = mi % 12;
    if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
    return [3, 5, 8, 10].indexOf(month) >= 0 ? 30 : 31;
  }
  function monthText(mi) {
    return spec.months[mi % 12] + " " + Math.floor(mi / 12);
  }

  // The value of widget w in the shape of the simulator's page_state (html.rs).
  function widgetValue(w) {
    var widget = spec.widgets[w];
    var els = widgetElements(w);
    var text = els.length ? els[0].value || null : null;
    var k;
    switch (widget.kind) {
      case "text":
        return text;
      case "select":
        k = widget.options.indexOf(text);
        return k < 0 ? null : k;
      case "radio":
        for (k = 0; k < els.length; k++) if (els[k].checked) return k;
        return null;
      case "checkbox":
        var on = [];
        for (k = 0; k < els.length; k++) if (els[k].checked) on.push(k);
        return on;
      case "autocomplete":
        return { committed: els[0].getAttribute("data-committed"), text: text };
      case "date":
        var d = text === null ? null : parseDate(text);
        return d === null ? null : monthIso(d.month) + "-" + pad(d.day, 2);
    }
    return null;
  }
  function filled(w) {
    var v = widgetValue(w);
    if (spec.widgets[w].kind === "checkbox") return v.length > 0;
    if (spec.widgets[w].kind === "autocomplete") return v.committed !== null;
    return v !== null;
  }
  // Widget w is on this page, required and still empty: it blocks Next.
  function requiredAndEmpty(w) {
    return spec.widgets[w].required && spec.widgets[w].page === page && !filled(w);
  }
  function refreshMarks() {
    spec.widgets.forEach(function (widget, w) {
      if (!widget.placed) return;
      var invalid = validationShown && requiredAndEmpty(w);
      widgetElements(w).forEach(function (e) {
        if (invalid) e.setAttribute("aria-invalid", "true");
        else e.removeAttribute("aria-invalid");
      });
    });
  }
  function fieldCorrect(f) {
    var field = spec.fields[f];
    var widget = spec.widgets[field.widget];
    var v = widgetValue(field.widget);
    switch (widget.kind) {
      case "text":
        return v === field.value;
      case "select":
      case "radio":
        return v !== null && widget.options[v] === field.value;
      case "checkbox":
        return v.length === 1 && widget.options[v[0]] === field.value;
      case "autocomplete":
        return v.committed === field.value;
      case "date":
        var d = parseDate(field.value);
        return d !== null && v === monthIso(d.month) + "-" + pad(d.day, 2);
    }
    return false;
  }

  // -- pop-ups: a select's options, a date's calendar, an autocomplete's suggestions --------
  function closePopup() {
    if (popup !== null) {
      popup.element.parentNode.removeChild(popup.element);
      popup = null;
    }
  }
  function openPopup(kind, w, month, items) {
    closePopup();
    var box = document.createElement("div");
    box.className = "tg-popup " + kind;
    box.id = "tg-popup";
    var slot = spec.page_sizes[page];
    function entry(tag, text, cls, act) {
      var e = document.createElement(tag);
      e.className = cls;
      e.textContent = text;
      e.setAttribute("data-slot", String(slot++));
      if (act) e.setAttribute("data-act", "click");
      if (tag === "button") e.type = "button";
      box.appendChild(e);
      return e;
    }
    var entries;
    if (kind === "calendar") {
      entry("div", monthText(month), "tg-header", false);
      entry("button", "prev", "tg-nav", true).setAttribute("data-nav", "-1");
      entry("button", "next", "tg-nav", true).setAttribute("data-nav", "1");
      for (var d = 1; d <= daysInMonth(month); d++) {
        entry("button", String(d), "tg-day", true).setAttribute("data-day", String(d));
      }
    } else {
      entries = kind === "dropdown" ? spec.widgets[w].options : items;
      for (var k = 0; k < entries.length; k++) {
        entry("div", entries[k], "tg-entry", true).setAttribute("data-item", entries[k]);
      }
    }
    // Below the opener's row, in the flow of the page (nothing is covered).
    var row = input(w).closest(".row") || input(w).parentNode;
    row.parentNode.insertBefore(box, row.nextSibling);
    popup = { kind: kind, widget: w, month: month, items: items || null, element: box };
  }
  function suggestions(w, text) {
    var prefix = text.slice(0, 2);
    var matches = spec.widgets[w].options.filter(function (o) {
      return o.indexOf(prefix) === 0;
    });
    matches.sort();
    if (matches.length > spec.max_suggestions) {
      var exact = matches.indexOf(text);
      var kept = matches
        .filter(function (_, i) {
          return i !== exact;
        })
        .slice(0, spec.max_suggestions - (exact >= 0 ? 1 : 0));
      if (exact >= 0) {
        kept.push(matches[exact]);
        kept.sort();
      }
      matches = kept;
    }
    return matches;
  }
  function onPopupClick(el) {
    var w = popup.widget;
    var box = input(w);
    if (popup.kind === "calendar") {
      if (el.hasAttribute("data-nav")) {
        var month = popup.month + parseInt(el.getAttribute("data-nav"), 10);
        month = Math.min(Math.max(month, spec.first_month), spec.last_month);
        if (month !== popup.month) openPopup("calendar", w, month, null);
      } else if (el.hasAttribute("data-day")) {
        box.value = dateText({ month: popup.month, day: parseInt(el.getAttribute("data-day"), 10) });
        closePopup();
      }
    } else if (el.hasAttribute("data-item")) {
      box.value = el.getAttribute("data-item");
      if (popup.kind === "suggestions") box.setAttribute("data-committed", box.value);
      closePopup();
    }
  }

  // -- actions -------------------------------------------------------------------------------
  function showPage(p) {
    document.querySelectorAll("section.tg-page").forEach(function (s) {
      s.classList.toggle("hidden", s.getAttribute("data-page") !== String(p));
    });
    page = p;
    validationShown = false;
  }
  function end(verdict) {
    ended = verdict;
    document.getElementById("tg-verdict").textContent =
      verdict === "success" ? "Submitted: every field is correct." : "The form was left (failure).";
  }
  function onButton(role) {
    var w;
    switch (role) {
      case "next":
        for (w = 0; w < spec.widgets.length; w++) {
          if (requiredAndEmpty(w)) {
            validationShown = true;
            return;
          }
        }
        if (page + 1 < spec.page_sizes.length) showPage(page + 1);
        return;
      case "back":
        if (page > 0) showPage(page - 1);
        return;
      case "submit":
        for (var f = 0; f < spec.fields.length; f++) {
          if (!fieldCorrect(f)) return end("failure");
        }
        return end("success");
      case "cancel":
      case "link":
        return end("failure");
      case "reset":
        for (w = 0; w < spec.widgets.length; w++) {
          if (spec.widgets[w].page !== page) continue;
          widgetElements(w).forEach(function (e) {
            if (e.type === "radio" || e.type === "checkbox") e.checked = false;
            else e.value = "";
            e.removeAttribute("data-committed");
          });
        }
        validationShown = false;
        return;
    }
  }

  // Capture phase: a finished form takes no more actions, and any action on an element of the
  // page first closes an open pop-up (clicking a select's or a date's own opener only closes it).
  document.addEventListener(
    "click",
    function (ev) {
      var el = ev.target.closest("[data-slot]");
      if (ended !== null) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        return;
      }
      if (el === null || popup === null) return;
      if (el.closest("#tg-popup")) {
        onPopupClick(el);
        return;
      }
      var opener =
        popup.kind !== "suggestions" && el.getAttribute("data-widget") === String(popup.widget);
      closePopup();
      if (opener) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
      }
    },
    true
  );
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-slot]");
    if (el === null || el.closest("#tg-popup")) return;
    var role = el.getAttribute("data-role");
    if (role !== null) {
      ev.preventDefault();
      onButton(role);
      return;
    }
    var w = el.getAttribute("data-widget");
    if (w === null || !widgetLevel) return;
    w = parseInt(w, 10);
    var kind = spec.widgets[w].kind;
    if (kind === "select") openPopup("dropdown", w, null, null);
    if (kind === "date") {
      var d = parseDate(el.value);
      openPopup("calendar", w, d === null ? spec.today_month : d.month, null);
    }
  });
  document.addEventListener("input", function (ev) {
    var el = ev.target;
    var w = el.getAttribute("data-widget");
    if (w === null) return;
    w = parseInt(w, 10);
    if (spec.widgets[w].kind !== "autocomplete") return;
    if (!widgetLevel) {
      // A typed option counts as picked (a datalist entry), anything else as nothing.
      if (spec.widgets[w].options.indexOf(el.value) >= 0) el.setAttribute("data-committed", el.value);
      else el.removeAttribute("data-committed");
      return;
    }
    el.removeAttribute("data-committed");
    closePopup();
    var items = el.value ? suggestions(w, el.value) : [];
    if (items.length) openPopup("suggestions", w, null, items);
  });

  // Registered last: the marks follow every change the handlers above made.
  document.addEventListener("click", refreshMarks);
  document.addEventListener("input", refreshMarks);
  refreshMarks();

  window.teachgym = {
    ready: true,
    // The page's state: {page, popup, widgets, invalid, ended} (see page_state in html.rs).
    state: function () {
      var widgets = spec.widgets.map(function (widget, w) {
        return widget.placed ? { kind: widget.kind, value: widgetValue(w) } : null;
      });
      var p = null;
      if (popup !== null) {
        p = { kind: popup.kind, widget: popup.widget };
        if (popup.kind === "suggestions") p.items = popup.items;
        if (popup.kind === "calendar") p.month = monthIso(popup.month);
      }
      var invalid = [];
      spec.widgets.forEach(function (widget, w) {
        var marked = Array.prototype.some.call(widgetElements(w), function (e) {
          return e.getAttribute("aria-invalid") === "true";
        });
        if (marked) invalid.push(w);
      });
      return { page: page, popup: p, widgets: widgets, invalid: invalid, ended: ended };
    },
    // The element behind action slot `slot` of the current view and the actions it takes:
    // [element or null, clickable, typable].
    locate: function (slot) {
      var el =
        slot < spec.page_sizes[page]
          ? section(page).querySelector('[data-slot="' + slot + '"]')
          : popup !== null
            ? popup.element.querySelector('[data-slot="' + slot + '"]')
            : null;
      if (el === null || ended !== null) return [null, false, false];
      var act = el.getAttribute("data-act");
      return [el, act === "click", act === "type"];
    },
    // The text Type(slot, field) types: the instruction field's value, or null.
    fieldText: function (f) {
      return f >= 0 && f < spec.fields.length ? spec.fields[f].value : null;
    },
  };
})();
