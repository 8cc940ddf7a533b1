// The page of landscape's explorer: unpacks the numbers its Python builder computed (landscape/page/
// build.py) and draws a frame of them over matplotlib's pictures. It looks numbers up and draws:
// every position, colour, label and place was computed by the sweep and measured on the figure.
(function () {
  "use strict";

  const root = document.querySelector(".landscape");
  const $ = (selector) => root.querySelector(selector);

  const {unpack, pictures, sprite, font, cellAt, started} = landscapeBlock;  // unpack.js, before this script

  // -- drawing ----------------------------------------------------------------------------------

  function roundedBox(context, x, y, w, h, r) {
    context.beginPath();
    context.moveTo(x + r, y);
    context.arcTo(x + w, y, x + w, y + h, r);
    context.arcTo(x + w, y + h, x, y + h, r);
    context.arcTo(x, y + h, x, y, r);
    context.arcTo(x, y, x + w, y, r);
    context.closePath();
  }

  function clipTo(context, box) {
    context.beginPath();
    context.rect(box[0], box[1], box[2], box[3]);
    context.clip();
  }

  // a line through the points (xs[p], ys[p]) for p from 0 to `last`, broken where a point is NaN, and
  // `fraction` of the way on to the next point (while playing, between two iterations)
  function line(context, xs, ys, last, style, colour, fraction = 0) {
    context.strokeStyle = colour;
    context.lineWidth = style.width;
    context.lineCap = style.cap;
    context.lineJoin = style.join;
    context.beginPath();
    let drawing = false;
    for (let p = 0; p <= last; p++) {
      const x = xs[p], y = ys[p];
      if (Number.isNaN(x) || Number.isNaN(y)) { drawing = false; continue; }
      if (drawing) context.lineTo(x, y); else context.moveTo(x, y);
      drawing = true;
    }
    const next = last + 1;
    if (drawing && fraction > 0 && next < xs.length && !Number.isNaN(xs[next]) && !Number.isNaN(ys[next])) {
      context.lineTo(xs[last] + fraction * (xs[next] - xs[last]), ys[last] + fraction * (ys[next] - ys[last]));
    }
    context.stroke();
  }

  function dot(context, x, y, radius, fill, edge, edgeColour) {
    context.beginPath();
    context.arc(x, y, radius, 0, 2 * Math.PI);
    context.fillStyle = fill;
    context.fill();
    if (edge > 0) {
      context.lineWidth = edge;
      context.strokeStyle = edgeColour;
      context.stroke();
    }
  }

  function outlined(context, outline, x, y, fill, edge, edgeColour) {
    context.beginPath();
    outline.forEach(([u, v], index) => (index ? context.lineTo(x + u, y + v) : context.moveTo(x + u, y + v)));
    context.closePath();
    context.fillStyle = fill;
    context.fill();
    context.lineWidth = edge;
    context.strokeStyle = edgeColour;
    context.lineJoin = "miter";
    context.stroke();
  }

  // an arrow from (x0, y0) to (x1, y1) in its kind's style: its shaft and head (matplotlib's, for a
  // shaft along +x ending at 0), over a black outline
  function arrow(context, style, x0, y0, x1, y1) {
    const length = Math.hypot(x1 - x0, y1 - y0);
    if (!(length > 0)) return;
    const ux = (x1 - x0) / length, uy = (y1 - y0) / length;
    const at = ([u, v]) => [x1 + u * ux - v * uy, y1 + u * uy + v * ux];
    const shaft = () => {
      context.beginPath();
      context.moveTo(x0, y0);
      context.lineTo(...at([style.shaft, 0]));
    };
    const head = () => {
      context.beginPath();
      style.head.forEach((corner, index) => (index ? context.lineTo(...at(corner)) : context.moveTo(...at(corner))));
      context.closePath();
    };
    context.lineCap = "butt";
    context.lineJoin = "miter";
    context.setLineDash(style.dashes);
    context.strokeStyle = "#000";
    context.lineWidth = style.outline;
    shaft(); context.stroke();
    context.setLineDash([]);
    head(); context.stroke();
    context.strokeStyle = context.fillStyle = style.colour;
    context.lineWidth = style.width;
    context.setLineDash(style.dashes);
    shaft(); context.stroke();
    context.setLineDash([]);
    head(); context.fill(); context.stroke();
  }

  class Landscape {
    constructor(tables, arrays, images) {
      Object.assign(this, {tables, arrays, images});
      this.runs = tables.runs;
      this.cells = tables.lrs.length * tables.momenta.length;
      this.points = tables.steps + 1;
      const [ax, bx] = tables.contour.x, [ay, by] = tables.contour.y, none = tables.codes.none;
      // every run's points in page pixels, x then y per row
      this.xy = this.runs.map((run, k) => {
        const quantised = arrays["points" + k], pixels = new Float32Array(quantised.length);
        const n = this.points;
        for (let row = 0; row < run.rows; row++) {
          for (let p = 0; p < n; p++) {
            const qx = quantised[(2 * row) * n + p], qy = quantised[(2 * row + 1) * n + p];
            pixels[(2 * row) * n + p] = qx === none ? NaN : ax + bx * qx;
            pixels[(2 * row + 1) * n + p] = qy === none ? NaN : ay + by * qy;
          }
        }
        return pixels;
      });
      const [lx, bl] = tables.loss.x;
      this.iterationX = Float32Array.from({length: this.points}, (_, p) => lx + bl * p);
      this.lossY = [];  // per picture (loss axis) and run, page pixels
      tables.loss.y.forEach(([a, b], variant) => {
        this.lossY[variant] = this.runs.map((run, k) => Float32Array.from(arrays["loss" + k],
                                                                         (q) => (q === none ? NaN : a + b * q)));
      });
    }

    // one frame: cell (i, j) of the sliders, up to `point` (and `fraction` of the way to the next), with
    // the arrows of `choice` (0: none)
    draw(context, i, j, point, choice, fraction = 0) {
      const t = this.tables, a = this.arrays, styles = t.styles, n = this.points;
      const cell = i * t.momenta.length + j, runs = this.runs.length, variant = a.variant[cell];
      const rows = this.runs.map((_, k) => a.row[cell * runs + k]);
      const colours = this.runs.map((_, k) => t.colours[a.colour[cell * runs + k]]);
      context.clearRect(0, 0, t.width, t.height);
      context.save();
      clipTo(context, t.contour.box);
      this.runs.forEach((run, k) => {  // the paths, a dot at every point
        const from = 2 * rows[k] * n, last = Math.min(point, n - 1);
        const x = this.xy[k].subarray(from, from + n), ys = this.xy[k].subarray(from + n, from + 2 * n);
        line(context, x, ys, last, styles.path, colours[k], fraction);
        if (styles.path.radius > 0) {
          for (let p = 0; p <= last; p++) {
            if (!Number.isNaN(x[p]) && !Number.isNaN(ys[p])) {
              dot(context, x[p], ys[p], styles.path.radius + styles.path.edge / 2, colours[k], 0);
            }
          }
        }
      });
      sprite(context, this.images[t.minima]);  // no path hides a minimum
      if (choice > 0 && point < n - 1) this.drawArrows(context, choice - 1, rows[choice - 1], point);
      this.runs.forEach((run, k) => {  // the starts
        const xs = this.xy[k], from = 2 * rows[k] * n;
        if (!Number.isNaN(xs[from])) {
          dot(context, xs[from], xs[from + n], styles.start.radius, colours[k], styles.start.edge,
              styles.start.edgeColour);
        }
      });
      context.restore();
      context.save();
      clipTo(context, t.loss.box);
      this.runs.forEach((run, k) => {  // the loss curves
        line(context, this.iterationX, this.lossY[variant][k].subarray(rows[k] * n, (rows[k] + 1) * n),
             Math.min(point, n - 1), styles.loss, colours[k], fraction);
      });
      context.restore();
      this.runs.forEach((run, k) => {  // a ✖ where a run blew up, once it has
        const last = a["blowup" + k][rows[k]];
        if (last >= 0 && last < point) {
          outlined(context, styles.blowUp.outline, this.iterationX[last], this.lossY[variant][k][rows[k] * n + last],
                   colours[k], styles.blowUp.edge, styles.blowUp.edgeColour);
        }
      });
      sprite(context, this.images[t.counterBox]);
      if (choice > 0) sprite(context, this.images[t.arrows[choice - 1].key]);
      const legend = this.drawLegend(context, cell, choice, colours);
      if (choice > 0) this.drawTitle(context, choice - 1, rows[choice - 1], point);
      context.font = `${t.counter.size}px ${t.font}`;
      context.fillStyle = t.counter.colour;
      context.textAlign = "right";
      context.textBaseline = "alphabetic";
      context.fillText(`iteration ${point}`, t.counter.at[0], t.counter.at[1]);
      context.textAlign = "left";
      return legend;
    }

    // the arrows of optimizer k's step from `point` of row `row`: each from the point (or from the end of
    // the arrow before it, when chained), in quarter pixels; an arrow's own "×N" at its head
    drawArrows(context, k, row, point) {
      const t = this.tables, table = t.arrows[k], count = table.kinds.length, n = this.points, rows = this.runs[k].rows;
      const arrows = this.arrays["arrows" + k], own = this.arrays["own" + k], labels = t.styles.arrows.labels;
      const xs = this.xy[k], ox = xs[2 * row * n + point], oy = xs[(2 * row + 1) * n + point];
      const at = (a, c) => arrows[((a * 4 + c) * rows + row) * (n - 1) + point] / t.codes.arrowUnits;
      const starts = [], ends = [];
      for (let a = 0; a < count; a++) {
        const [bx, by] = table.chained[a] ? ends[a - 1] : [ox, oy];
        starts.push([bx + at(a, 0), by + at(a, 1)]);
        ends.push([starts[a][0] + at(a, 2), starts[a][1] + at(a, 3)]);
      }
      for (const a of table.order) {
        const label = own[(a * rows + row) * (n - 1) + point];
        if (label === t.codes.notDrawn) continue;
        const [x1, y1] = ends[a];
        arrow(context, t.styles.arrows.kinds[table.kinds[a]], starts[a][0], starts[a][1], x1, y1);
        if (label > 0) {  // white on a black outline
          context.font = `${labels.size}px ${t.font}`;
          context.lineJoin = "round";
          context.lineWidth = labels.outline;
          context.strokeStyle = "#000";
          context.strokeText(labels.texts[label - 1], x1 + labels.at[0], y1 + labels.at[1]);
          context.fillStyle = labels.colour;
          context.fillText(labels.texts[label - 1], x1 + labels.at[0], y1 + labels.at[1]);
        }
      }
    }

    // the key's title: what the arrows are drawn at (its lines where matplotlib puts them)
    drawTitle(context, k, row, point) {
      const title = this.tables.arrows[k].title, which = this.arrays["title" + k][row * this.points + point];
      context.font = `${title.size}px ${this.tables.font}`;
      context.fillStyle = title.colour;
      title.texts[which].split("\n").forEach((text, line) => {
        const [x, y] = title.lines[which][line];
        context.fillText(text, x, y);
      });
    }

    drawLegend(context, cell, choice, colours) {
      const t = this.tables, runs = this.runs.length, at = cell * (runs + 1) + choice, place = this.arrays.legend;
      const layout = t.legends[place[3 * at]], x = place[3 * at + 1], y = place[3 * at + 2], style = t.styles.legend;
      const texts = this.arrays.labels.subarray(at * runs, (at + 1) * runs);
      roundedBox(context, x, y, layout.w, layout.h, style.radius);
      context.fillStyle = style.fill;
      context.fill();
      context.lineWidth = style.width;
      context.strokeStyle = style.stroke;
      context.stroke();
      context.font = `${layout.size}px ${t.font}`;
      context.textBaseline = "alphabetic";
      layout.entries.forEach(([tx, ty, x0, x1, ly, mx], k) => {
        context.strokeStyle = colours[k];
        context.lineWidth = style.handle.width;
        context.lineCap = style.handle.cap;
        context.beginPath();
        context.moveTo(x + x0, y + ly);
        context.lineTo(x + x1, y + ly);
        context.stroke();
        if (style.handle.radius > 0) dot(context, x + mx, y + ly, style.handle.radius + style.handle.edge / 2, colours[k], 0);
        context.fillStyle = style.text;
        context.fillText(t.strings[texts[k]], x + tx, y + ty);
      });
      return Array.from(texts, (text) => t.strings[text]);
    }
  }

  // -- the page ---------------------------------------------------------------------------------
  function canvasFor(picture, width, height) {
    const canvas = picture.querySelector("canvas");
    const context = canvas.getContext("2d");
    return {canvas, context, width, height, fit() {
      const ratio = window.devicePixelRatio || 1, box = picture.getBoundingClientRect();
      const w = Math.max(1, Math.round(box.width * ratio)), h = Math.max(1, Math.round(box.height * ratio));
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      context.setTransform(w / width, 0, 0, h / height, 0, 0);
    }};
  }

  function number(value) {
    return Number(value.toPrecision(3)).toString();
  }

  async function start() {
    const sources = JSON.parse(document.getElementById("landscape-images").textContent);
    const [{tables, arrays}, images] = await Promise.all([unpack("landscape-numbers"), pictures(sources)]);
    await font(tables.font, sources.font);
    const view = new Landscape(tables, arrays, images);
    const state = {i: tables.start.lr, j: tables.start.momentum, point: tables.start.iteration,
                   choice: tables.start.arrows, phase: 0, playing: false, fraction: 0};
    const figure = $(".figure"), lr = $(".lr"), momentum = $(".momentum"), iteration = $(".iteration");
    const arrowsChoice = $(".arrows"), play = $(".play");
    const backgrounds = tables.backgrounds.map((name) => {
      const image = images[name].image;
      image.alt = "the surface's contours, minima and axes";
      figure.insertBefore(image, figure.firstChild);
      return image;
    });
    const landscape = canvasFor(figure, tables.width, tables.height);
    lr.max = tables.lrs.length - 1;
    momentum.max = tables.momenta.length - 1;
    iteration.max = tables.steps;
    arrowsChoice.add(new Option("none", "0"));
    tables.runs.forEach((run, k) => arrowsChoice.add(new Option(run.text, String(k + 1))));

    // the phase diagrams: one picture each, the ring drawn over it
    const phasePicture = $(".phase-figure"), phaseChoice = $(".phase-optimizer");
    const phases = tables.phases.map((phase, index) => {
      phaseChoice.add(new Option(tables.runs[phase.run].text, String(index)));
      const image = images[phase.image].image;
      image.alt = `phase diagram of ${tables.runs[phase.run].text}`;
      image.hidden = true;
      phasePicture.insertBefore(image, phasePicture.firstChild);
      return image;
    });
    const ring = phases.length ? canvasFor(phasePicture, tables.phases[0].width, tables.phases[0].height) : null;
    const without = tables.runs.filter((run) => !run.momentum).map((run) => run.text);
    $(".note").textContent = phases.length
      ? "click a cell to set the learning rate and momentum sliders" + (without.length ? ` (${without.join(", ")}: no momentum to sweep)` : "")
      : "no optimizer in the list has a momentum to sweep";
    if (!phases.length) phaseChoice.disabled = true;

    let pending = false;
    function show() {
      const began = performance.now();
      lr.value = state.i; momentum.value = state.j; iteration.value = state.point; arrowsChoice.value = state.choice;
      $(".lr-value").textContent = number(tables.lrs[state.i]);
      $(".momentum-value").textContent = number(tables.momenta[state.j]);
      $(".iteration-value").textContent = String(state.point);
      const variant = arrays.variant[state.i * tables.momenta.length + state.j];
      backgrounds.forEach((image, index) => { image.hidden = index !== variant; });
      landscape.fit();
      const legend = view.draw(landscape.context, state.i, state.j, state.point, state.choice, state.fraction);
      $(".described").textContent = `iteration ${state.point}, lr ${number(tables.lrs[state.i])}, momentum ` +
        `${number(tables.momenta[state.j])}: ${legend.join(" · ")}`;
      $(".arrows-key").innerHTML = state.choice > 0 ? tables.arrows[state.choice - 1].html : "";
      if (ring) {
        const phase = tables.phases[state.phase];
        phases.forEach((image, index) => { image.hidden = index !== state.phase; });
        phasePicture.style.aspectRatio = `${phase.width} / ${phase.height}`;
        ring.width = phase.width; ring.height = phase.height;
        ring.fit();
        ring.context.clearRect(0, 0, phase.width, phase.height);
        sprite(ring.context, images[phase.ring], phase.x[state.i], phase.y[state.j]);
        const cell = state.i * tables.momenta.length + state.j;
        $(".readout").innerHTML = tables.readouts[arrays["readout" + state.phase][cell]];
      }
      root.dataset.frames = String(Number(root.dataset.frames || 0) + 1);
      figure.dispatchEvent(new CustomEvent("landscape:drawn", {bubbles: true, detail: {ms: performance.now() - began}}));
    }
    function redraw() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; show(); });
    }

    // an input draws at once (a frame takes a millisecond or two), so it shows in the next screen frame
    lr.addEventListener("input", () => { state.i = Number(lr.value); show(); });
    momentum.addEventListener("input", () => { state.j = Number(momentum.value); show(); });
    iteration.addEventListener("input", () => { state.point = Number(iteration.value); state.fraction = 0; show(); });
    arrowsChoice.addEventListener("change", () => {
      state.choice = Number(arrowsChoice.value);
      if (state.choice > 0 && state.point === tables.steps) state.point = tables.steps - 1;  // the last point takes no step
      redraw();
    });
    phaseChoice.addEventListener("change", () => { state.phase = Number(phaseChoice.value); redraw(); });
    const step = (by) => {
      state.point = Math.min(tables.steps, Math.max(0, state.point + by));
      state.fraction = 0;
      redraw();
    };
    $(".back").addEventListener("click", () => step(-1));
    $(".forward").addEventListener("click", () => step(1));

    // play: PLAY_RATE iterations a second by the clock, drawn at every screen frame (the paths reach
    // between two iterations' points in between); from the start again when pressed at the end
    const PLAY_RATE = 30;
    let playStarted = 0, playFrom = 0;
    function tick(time) {
      if (!state.playing) return;
      if (!playStarted) playStarted = time;
      const position = Math.min(tables.steps, playFrom + (time - playStarted) * PLAY_RATE / 1000);
      state.point = Math.floor(position);
      state.fraction = position - state.point;
      show();
      if (state.point >= tables.steps) { toggle(); return; }
      requestAnimationFrame(tick);
    }
    function toggle() {
      state.playing = !state.playing;
      play.textContent = state.playing ? "❚❚ pause" : "▶ play";
      if (state.playing) {
        if (state.point >= tables.steps) state.point = 0;
        playStarted = 0;
        playFrom = state.point;
        requestAnimationFrame(tick);
      } else if (state.fraction) {
        state.fraction = 0;
        show();
      }
    }
    play.addEventListener("click", toggle);
    figure.addEventListener("keydown", (event) => {
      if (event.key === " ") toggle();
      else if (event.key === "ArrowLeft") step(-1);
      else if (event.key === "ArrowRight") step(1);
      else return;
      event.preventDefault();
    });

    phasePicture.addEventListener("click", (event) => {
      if (!ring) return;
      const phase = tables.phases[state.phase], cell = cellAt(event, phasePicture, phase, phase.width, phase.height);
      if (cell) { [state.i, state.j] = cell; redraw(); }
    });
    new ResizeObserver(redraw).observe(figure);
    show();
  }

  started(start);
})();
