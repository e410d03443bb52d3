/* pytest-kolena HTML report: the test case drill-down (worst samples, the samples table sorted and paged).
   Reads the JSON block #kolena-data: {suites: [{group, id_prefix, ids, models, configurations, columns, sort,
   descending, thumbnails, note}], cases: [{suite, members, worst} | null]}, one case per <section id="case-K">. Every user string
   reaches the page through textContent or an attribute, never as HTML. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("kolena-data").textContent);
  DATA.suites.forEach(function (suite) {  /* the ids' common prefix is sent once */
    if (suite.id_prefix) suite.ids = suite.ids.map(function (id) { return suite.id_prefix + id; });
  });
  var PAGE_SIZES = [25, 50, 100, 200];
  var prepared = [];
  var states = {};
  var built = {};
  var current = null;
  window.kolenaTimes = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* Base64 to bytes. */
  function bytesOf(text) {
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  /* A dictionary-coded column's codes (little-endian uint8 or uint16) and the code of a missing value. */
  function codesOf(c) {
    var bytes = bytesOf(c.codes);
    return c.width === 2 ? [new Uint16Array(bytes.buffer), 0xffff] : [bytes, 0xff];
  }

  /* A suite's columns as typed arrays (numbers, NaN where missing) or string arrays, once per suite (see
     html/columns.py for their forms); a derived column is the difference of two others. */
  function suiteOf(s) {
    if (prepared[s]) return prepared[s];
    var suite = DATA.suites[s];
    var n = suite.ids.length;
    var columns = suite.columns.map(function (c) {
      var out = { name: c.name, group: c.group, model: c.model, configuration: c.configuration, kind: c.kind };
      var i, codes, missing;
      if (c.kind === "text") {
        var text = c.values;
        if (!text) {
          codes = codesOf(c);
          missing = codes[1];
          codes = codes[0];
          text = new Array(n);
          for (i = 0; i < n; i++) text[i] = codes[i] === missing ? null : c.dict[codes[i]];
        }
        out.text = text;
      } else if (c.f32) {
        out.num = Float64Array.from(new Float32Array(bytesOf(c.f32).buffer));
      } else if (c.dict) {
        codes = codesOf(c);
        missing = codes[1];
        codes = codes[0];
        var num = new Float64Array(n);
        for (i = 0; i < n; i++) num[i] = codes[i] === missing ? NaN : c.dict[codes[i]];
        out.num = num;
      }
      return out;
    });
    suite.columns.forEach(function (c, k) {
      if (!c.derived) return;
      var a = columns[c.derived[0]].num, b = columns[c.derived[1]].num, num = new Float64Array(n);
      for (var i = 0; i < n; i++) num[i] = a[i] - b[i];
      columns[k].num = num;
    });
    var id = { name: "sample", group: "", model: null, configuration: null, kind: "text", text: suite.ids };
    prepared[s] = { suite: suite, n: n, columns: columns, id: id };
    return prepared[s];
  }

  /* A test case's members: the bitset decoded (little-endian bits over the suite's samples), or every sample. */
  function members(bits, n) {
    var out, i, k = 0;
    if (bits === null) {
      out = new Int32Array(n);
      for (i = 0; i < n; i++) out[i] = i;
      return out;
    }
    var bytes = atob(bits);
    var count = 0;
    for (i = 0; i < bytes.length; i++) {
      for (var b = bytes.charCodeAt(i); b; b >>= 1) count += b & 1;
    }
    out = new Int32Array(count);
    for (i = 0; i < bytes.length; i++) {
      for (var bit = 0, v = bytes.charCodeAt(i); v; bit++, v >>= 1) if (v & 1) out[k++] = i * 8 + bit;
    }
    return out;
  }

  /* Sorted in place by a column; missing values last in either direction; ties in sample order. */
  function sortRows(order, column, descending) {
    if (column.num) {
      var v = column.num;
      order.sort(function (a, b) {
        var x = v[a], y = v[b], nx = x !== x, ny = y !== y;
        if (nx || ny) return nx && ny ? a - b : nx ? 1 : -1;
        if (x === y) return a - b;
        return descending ? y - x : x - y;
      });
    } else {
      var t = column.text;
      order.sort(function (a, b) {
        var x = t[a], y = t[b];
        if (x === null || y === null) return x === y ? a - b : x === null ? 1 : -1;
        if (x === y) return a - b;
        return (x < y) === !descending ? -1 : 1;
      });
    }
  }

  function format(column, i) {
    if (column.text) return column.text[i];
    var v = column.num[i];
    if (v !== v) return null;
    if (column.kind === "bool") return v ? "true" : "false";
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    var a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }

  /* The columns shown under a configuration: the sample id, every column of no configuration, that one's. */
  function visible(p, configuration) {
    var shown = [p.id];
    p.columns.forEach(function (c) {
      if (c.configuration === null || c.configuration === configuration) shown.push(c);
    });
    return shown;
  }

  function rankColumn(p, model) {
    var at = p.suite.sort[0];
    if (at === null || at === undefined) return null;
    var name = p.columns[at].name;
    for (var i = 0; i < p.columns.length; i++) {
      var c = p.columns[i];
      if (c.model === model && c.configuration === 0 && c.name === name) return c;
    }
    return null;
  }

  function baselineColumn(p, model, name) {
    for (var i = 0; i < p.columns.length; i++) {
      var c = p.columns[i];
      if (c.model === model && c.configuration === 0 && c.name === "baseline " + name) return c;
    }
    return null;
  }

  function renderGallery(k) {
    var info = DATA.cases[k];
    var box = document.querySelector('.gallery[data-case="' + k + '"]');
    if (!box || !info) return;
    var p = suiteOf(info.suite);
    var images = Object.keys(p.suite.thumbnails).length > 0;
    var legend = el("div", "muted");
    legend.appendChild(el("span", "key truth"));
    legend.appendChild(document.createTextNode(" ground truth  "));
    legend.appendChild(el("span", "key inference"));
    legend.appendChild(document.createTextNode(" inference"));
    if (images) box.appendChild(legend);
    (info.worsened || []).forEach(function (pair) {
      var model = pair[0];
      var row = el("div", "row worsened");
      row.appendChild(el("div", "who", p.suite.models[model] + ": got worse the most"));
      var tiles = row.appendChild(el("div", "tiles"));
      var after = rankColumn(p, model);
      var before = after && baselineColumn(p, model, after.name);
      pair[1].forEach(function (i) {
        var tile = el("div", "tile pair");
        [["baseline", ":baseline"], ["candidate", ""]].forEach(function (side) {
          var uri = p.suite.thumbnails[i + ":" + model + side[1]];
          var figure = el("div", "side " + side[0]);
          if (uri) {
            var img = el("img");
            img.src = uri;
            img.alt = side[0] + " " + p.suite.ids[i];
            figure.appendChild(img);
          } else if (images) {
            figure.appendChild(el("div", "none", "no image"));
          }
          figure.appendChild(el("div", "muted", side[0]));
          tile.appendChild(figure);
        });
        var id = el("div", "id", p.suite.ids[i]);
        id.title = p.suite.ids[i];
        tile.appendChild(id);
        if (after && before) {
          tile.appendChild(el("div", "muted change", (format(before, i) || "–") + " → " + (format(after, i) || "–") + " " + after.name));
        }
        tiles.appendChild(tile);
      });
      box.appendChild(row);
    });
    info.worst.forEach(function (pair) {
      var model = pair[0];
      var row = el("div", "row");
      row.appendChild(el("div", "who", p.suite.models[model]));
      var tiles = row.appendChild(el("div", "tiles"));
      var rank = rankColumn(p, model);
      pair[1].forEach(function (i) {
        var tile = el("div", "tile");
        var uri = p.suite.thumbnails[i + ":" + model];
        if (uri) {
          var img = el("img");
          img.src = uri;
          img.alt = p.suite.ids[i];
          tile.appendChild(img);
        } else if (images) {
          tile.appendChild(el("div", "none", "no image"));
        }
        var id = el("div", "id", p.suite.ids[i]);
        id.title = p.suite.ids[i];
        tile.appendChild(id);
        if (rank) {
          var value = el("div", "muted", (format(rank, i) || "–") + " " + rank.name);
          value.title = rank.name;
          tile.appendChild(value);
        }
        tiles.appendChild(tile);
      });
      box.appendChild(row);
    });
  }

  function renderSamples(k) {
    var info = DATA.cases[k];
    var box = document.querySelector('.samples[data-case="' + k + '"]');
    if (!box || !info) return;
    var p = suiteOf(info.suite);
    var state = { configuration: 0, size: 50, page: 0, column: null, descending: false };
    state.order = members(info.members, p.n);
    states[k] = state;
    var controls = el("div", "controls");
    if (p.suite.note) box.appendChild(el("p", "muted table-note", p.suite.note));
    if (p.suite.configurations.length > 1) {
      var choose = el("select");
      choose.setAttribute("aria-label", "configuration");
      p.suite.configurations.forEach(function (name, c) {
        var option = el("option", null, name);
        option.value = String(c);
        choose.appendChild(option);
      });
      choose.addEventListener("change", function () {
        state.configuration = Number(choose.value);
        defaultSort(p, state);
        draw(k);
      });
      controls.appendChild(el("span", "muted", "configuration"));
      controls.appendChild(choose);
    }
    filterControls(k, p, state, controls);
    var buttons = {};
    [["first", "«"], ["previous", "‹ previous"], ["next", "next ›"], ["last", "»"]].forEach(function (pair) {
      var button = el("button", "page-" + pair[0], pair[1]);
      button.type = "button";
      button.addEventListener("click", function () {
        var pages = Math.max(1, Math.ceil(state.order.length / state.size));
        var to = { first: 0, previous: state.page - 1, next: state.page + 1, last: pages - 1 }[pair[0]];
        state.page = Math.min(Math.max(0, to), pages - 1);
        draw(k);
      });
      buttons[pair[0]] = button;
    });
    controls.appendChild(buttons.first);
    controls.appendChild(buttons.previous);
    var label = el("span", "page-label");
    controls.appendChild(label);
    controls.appendChild(buttons.next);
    controls.appendChild(buttons.last);
    var sizes = el("select");
    sizes.setAttribute("aria-label", "rows per page");
    PAGE_SIZES.forEach(function (size) {
      var option = el("option", null, size + " rows");
      option.value = String(size);
      option.selected = size === state.size;
      sizes.appendChild(option);
    });
    sizes.addEventListener("change", function () {
      state.size = Number(sizes.value);
      state.page = 0;
      draw(k);
    });
    controls.appendChild(sizes);
    var table = el("table");
    box.appendChild(controls);
    box.appendChild(el("div", "scroll-x")).appendChild(table);
    state.parts = { buttons: buttons, label: label, table: table };
    defaultSort(p, state);
    draw(k);
  }

  /* A filter by a metadata value: a column of the suite's metadata, then one of its values among the test case's
     samples (up to 100 distinct); the rows shown are the members holding it, sorted as before. */
  function filterControls(k, p, state, controls) {
    var columns = p.columns.filter(function (c) { return c.group === "metadata"; });
    if (!columns.length) return;
    var all = state.order;
    var which = el("select");
    which.setAttribute("aria-label", "filter column");
    var value = el("select");
    value.setAttribute("aria-label", "filter value");
    value.disabled = true;
    which.appendChild(el("option", null, "all samples"));
    columns.forEach(function (column, c) {
      var option = el("option", null, column.name);
      option.value = String(c);
      which.appendChild(option);
    });
    which.options[0].value = "";
    function apply() {
      var column = which.value === "" ? null : columns[Number(which.value)];
      var wanted = value.value;
      state.order = column === null || wanted === "" ? all : Int32Array.from(Array.prototype.filter.call(all, function (i) {
        return String(format(column, i)) === wanted;
      }));
      state.page = 0;
      sortRows(state.order, state.column, state.descending);
      draw(k);
    }
    which.addEventListener("change", function () {
      value.textContent = "";
      var column = which.value === "" ? null : columns[Number(which.value)];
      value.disabled = column === null;
      var any = el("option", null, "any value");
      any.value = "";
      value.appendChild(any);
      if (column !== null) {
        var seen = {};
        for (var r = 0; r < all.length; r++) seen[String(format(column, all[r]))] = true;
        Object.keys(seen).sort().slice(0, 100).forEach(function (text) {
          var option = el("option", null, text);
          option.value = text;
          value.appendChild(option);
        });
      }
      apply();
    });
    value.addEventListener("change", apply);
    controls.appendChild(el("span", "muted", "filter"));
    controls.appendChild(which);
    controls.appendChild(value);
  }

  /* Worst first by the suite's ranking metric of the first model, under the state's configuration. */
  function defaultSort(p, state) {
    var at = p.suite.sort[state.configuration];
    state.page = 0;
    if (at === null || at === undefined) {
      state.column = p.id;
      state.descending = false;
    } else {
      state.column = p.columns[at];
      state.descending = p.suite.descending;
    }
    sortRows(state.order, state.column, state.descending);
  }

  function header(k, p, state, shown) {
    var thead = el("thead");
    var groups = el("tr");
    var names = el("tr");
    var several = p.suite.models.length > 1 || shown.some(function (c) { return c.group === "ground truth" || c.group === "metadata"; });
    for (var i = 0; i < shown.length; ) {
      var j = i;
      while (j < shown.length && shown[j].group === shown[i].group) j++;
      var cell = el("th", "group", shown[i].group);
      cell.colSpan = j - i;
      groups.appendChild(cell);
      i = j;
    }
    groups.appendChild(el("th", "group"));
    shown.forEach(function (column) {
      var th = el("th", "sortable", column.name);
      th.title = (column.group ? column.group + " · " : "") + column.name + ": click to sort";
      if (column === state.column) th.className += state.descending ? " sorted-desc" : " sorted-asc";
      th.addEventListener("click", function () {
        if (state.column === column) {
          state.descending = !state.descending;
        } else {
          state.column = column;
          state.descending = false;
        }
        state.page = 0;
        sortRows(state.order, state.column, state.descending);
        draw(k);
      });
      names.appendChild(th);
    });
    names.appendChild(el("th", null, "image"));
    if (several) thead.appendChild(groups);
    thead.appendChild(names);
    return thead;
  }

  function draw(k) {
    var started = performance.now();
    var state = states[k];
    var p = suiteOf(DATA.cases[k].suite);
    var shown = visible(p, state.configuration);
    var total = state.order.length;
    var pages = Math.max(1, Math.ceil(total / state.size));
    var start = state.page * state.size;
    var end = Math.min(start + state.size, total);
    var tbody = el("tbody");
    for (var r = start; r < end; r++) {
      var i = state.order[r];
      var tr = el("tr");
      tr.setAttribute("data-index", String(i));
      for (var c = 0; c < shown.length; c++) {
        var column = shown[c];
        var text = format(column, i);
        var td = el("td", column === p.id ? "sample" : column.num ? "num" : null, text === null ? "–" : text);
        if (text === null) td.className += " missing";
        if (column === p.id) td.title = text;
        tr.appendChild(td);
      }
      var thumbs = el("td", "thumbs");
      for (var m = 0; m < p.suite.models.length; m++) {
        var uri = p.suite.thumbnails[i + ":" + m];
        if (!uri) continue;
        var img = el("img");
        img.src = uri;
        img.alt = p.suite.models[m];
        img.title = p.suite.models[m];
        thumbs.appendChild(img);
      }
      tr.appendChild(thumbs);
      tbody.appendChild(tr);
    }
    var table = state.parts.table;
    table.textContent = "";
    table.appendChild(header(k, p, state, shown));
    table.appendChild(tbody);
    state.parts.label.textContent =
      total === 0 ? "no samples" : "rows " + (start + 1) + "–" + end + " of " + total + " · page " + (state.page + 1) + " of " + pages;
    state.parts.buttons.first.disabled = state.parts.buttons.previous.disabled = state.page === 0;
    state.parts.buttons.next.disabled = state.parts.buttons.last.disabled = state.page >= pages - 1;
    window.kolenaTimes["draw-" + k] = performance.now() - started;
  }

  function show(k, scroll) {
    var section = document.getElementById("case-" + k);
    if (!section) return;
    if (current !== null && current !== k) document.getElementById("case-" + current).hidden = true;
    section.hidden = false;
    current = k;
    if (!built[k]) {
      var started = performance.now();
      built[k] = true;
      renderGallery(k);
      renderSamples(k);
      window.kolenaTimes["case-" + k] = performance.now() - started;
    }
    if (scroll) section.scrollIntoView();
  }

  function route(scroll) {
    var found = /^#case-(\d+)$/.exec(window.location.hash);
    var first = document.body.getAttribute("data-first-case");
    if (found) show(Number(found[1]), scroll);
    else if (first) show(Number(first), false);
  }

  window.addEventListener("hashchange", function () {
    route(true);
  });
  route(true);
  performance.mark("kolena-rendered");
  window.kolenaTimes.rendered = performance.now();
  document.body.setAttribute("data-rendered", "true");
})();
