// The page of a network's lr x momentum sweep (landscape/page/network.py): the cell the sliders point
// at, ringed on the phase diagram, and its loss curves, drawn over matplotlib's picture of the figure.
// It looks numbers up and draws: every loss, place, style and text was computed by Python.
(function () {
  "use strict";

  const root = document.querySelector(".landscape");
  const $ = (selector) => root.querySelector(selector);
  const {unpack, pictures, sprite, font, cellAt, started} = landscapeBlock;  // unpack.js, before this script

  // a curve through (xs[k], ys[k]), broken where a point is NaN (a loss that is not there), in `style`
  function curve(context, xs, ys, style) {
    context.save();
    context.globalAlpha = style.alpha;
    context.strokeStyle = style.colour;
    context.lineWidth = style.width;
    context.lineCap = style.cap;
    context.lineJoin = style.join;
    context.setLineDash(style.dashes);
    context.beginPath();
    let drawing = false;
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k], y = ys[k];
      if (Number.isNaN(x) || Number.isNaN(y)) { drawing = false; continue; }
      if (drawing) context.lineTo(x, y); else context.moveTo(x, y);
      drawing = true;
    }
    context.stroke();
    context.setLineDash([]);
    if (style.marker) {  // matplotlib's marker at every point: a circle, or its outline (a square …)
      context.fillStyle = style.fill;
      context.strokeStyle = style.edgeColour;
      context.lineWidth = style.edge;
      context.lineJoin = "miter";
      for (let k = 0; k < xs.length; k++) {
        const x = xs[k], y = ys[k];
        if (Number.isNaN(x) || Number.isNaN(y)) continue;
        context.beginPath();
        if (style.marker === "circle") context.arc(x, y, style.radius, 0, 2 * Math.PI);
        else style.marker.forEach(([u, v], i) => (i ? context.lineTo(x + u, y + v) : context.moveTo(x + u, y + v)));
        context.closePath();
        context.fill();
        if (style.edge > 0) context.stroke();
      }
    }
    context.restore();
  }

  async function start() {
    const sources = JSON.parse(document.getElementById("landscape-images").textContent);
    const [{tables, arrays}, images] = await Promise.all([unpack("landscape-numbers"), pictures(sources)]);
    await font(tables.font, sources.font);
    const t = tables, none = t.codes.none, steps = t.steps, epochs = t.epochs;
    const momenta = t.momenta ? t.momenta.length : 1;
    const state = {i: t.start.lr, j: t.start.momentum};
    const figure = $(".figure"), lr = $(".lr"), momentum = $(".momentum");
    const picture = images.figure.image;
    picture.alt = `phase diagram of ${t.optimizer}'s final validation loss, and the ringed cell's loss curves`;
    figure.insertBefore(picture, figure.firstChild);
    figure.style.aspectRatio = `${t.width} / ${t.height}`;
    const canvas = figure.querySelector("canvas"), context = canvas.getContext("2d");
    lr.max = t.lrs.length - 1;
    momentum.max = momenta - 1;
    $(".momentum-name").textContent = t.momentumLabel;

    // the curves' x in page pixels: batch k at (k + 1) / batches per epoch, epoch e at e
    const batchX = Float32Array.from({length: steps}, (_, k) => t.x.batch[0] + t.x.batch[1] * k);
    const epochX = Float32Array.from(t.x.epochs, (e) => t.x.epoch[0] + t.x.epoch[1] * e);
    // a cell's quantised losses on loss axis `axis` in page pixels (NaN where there is none)
    const ys = (name, cell, count, axis) => {
      const [a, b] = t.axes[axis].y;
      return Float32Array.from(arrays[name].subarray(cell * count, (cell + 1) * count),
                               (q) => (q === none ? NaN : a + b * q));
    };

    function fit() {
      const ratio = window.devicePixelRatio || 1, box = figure.getBoundingClientRect();
      const w = Math.max(1, Math.round(box.width * ratio)), h = Math.max(1, Math.round(box.height * ratio));
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      context.setTransform(w / t.width, 0, 0, h / t.height, 0, 0);
    }

    function show() {
      const {i, j} = state, cell = i * momenta + j, axis = arrays.axis[cell];
      lr.value = i; momentum.value = j;
      $(".lr-value").textContent = t.lrTexts[i];
      $(".momentum-value").textContent = t.momentumTexts[j];
      fit();
      context.clearRect(0, 0, t.width, t.height);
      sprite(context, images[t.axes[axis].image]);  // this cell's loss axis
      context.save();
      context.beginPath();
      context.rect(...t.box);
      context.clip();
      curve(context, batchX, ys("batch", cell, steps, axis), t.styles.batch);
      curve(context, epochX, ys("train", cell, epochs, axis), t.styles.train);
      curve(context, epochX, ys("val", cell, epochs, axis), t.styles.val);
      context.restore();
      sprite(context, images.legend);
      const heading = t.heading;
      context.font = `${heading.size}px ${t.font}`;
      context.fillStyle = heading.colour;
      context.textAlign = heading.align;
      context.textBaseline = "alphabetic";
      context.fillText(heading.texts[cell], heading.at[0], heading.at[1]);
      sprite(context, images.ring, t.phase.x[i], t.phase.y[j]);
      $(".cell-readout").textContent = t.readouts[cell];
      root.dataset.cell = String(cell);
      root.dataset.frames = String(Number(root.dataset.frames || 0) + 1);
    }

    let pending = false;
    function redraw() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; show(); });
    }
    lr.addEventListener("input", () => { state.i = Number(lr.value); redraw(); });
    momentum.addEventListener("input", () => { state.j = Number(momentum.value); redraw(); });
    figure.addEventListener("click", (event) => {  // a cell of the phase diagram sets both sliders
      const cell = cellAt(event, figure, t.phase, t.width, t.height);
      if (cell) { [state.i, state.j] = cell; redraw(); }
    });
    new ResizeObserver(redraw).observe(figure);
    show();
  }

  started(start);
})();
