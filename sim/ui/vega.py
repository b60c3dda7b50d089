"""The workshop view's chart widget: a Vega-Lite spec drawn in the browser by Vega-Embed.

Solara's own VegaLite widget waits 100 ms before each draw and compiles the chart anew every
time; at one draw per simulated week that alone used up most of the 250 ms a step may take.
This one draws at once and, when a new spec differs from the last only
in its `datasets`, hands the new rows to the live Vega view. Its menu exports the chart as PNG
or SVG.
"""

from __future__ import annotations

import ipyvuetify as v
import solara
import traitlets

# The Vue template is kept here (not in a .vue file) so that it ships with the package.
TEMPLATE = r"""
<template>
  <div style="width: 100%">
    <div ref="plotElement" style="width: 100%"></div>
  </div>
</template>
<script>
// A Vega-Lite chart for the workshop view (sim/ui/vega.py). Unlike solara's VegaLite widget it
// redraws at once (no 100 ms debounce) and, when only the chart's data changed since the last
// draw, swaps the data into the live view instead of compiling and embedding the chart again.
module.exports = {
  created() {
    this.vegaLoaded = this.loadVega();
    this.view = null;
    this.shape = null;
    this.queue = Promise.resolve();
  },
  mounted() {
    this.draw();
  },
  unmounted() {
    if (this.view) {
      this.view.finalize();
    }
  },
  destroyed() {
    if (this.view) {
      this.view.finalize();
    }
  },
  watch: {
    spec() {
      this.draw();
    },
  },
  methods: {
    draw() {
      // one draw at a time, in order; the latest spec wins
      this.queue = this.queue.then(() => this.drawNow()).catch((e) => console.error(e));
    },
    async drawNow() {
      await this.vegaLoaded;
      // A plain copy: Vega tags the rows it is given, and tagging the widget's own (reactive)
      // spec would count as a change of it and draw again, for ever.
      const spec = JSON.parse(JSON.stringify(this.spec));
      const { datasets, ...rest } = spec;
      const shape = JSON.stringify(rest);
      if (this.view && shape === this.shape && datasets) {
        try {
          for (const [name, values] of Object.entries(datasets)) {
            this.view.data(name, values);
          }
          // re-fit the layout: new data can widen the axis labels
          await this.view.resize().runAsync();
          return;
        } catch (e) {
          // a data set the view does not know: draw the chart anew below
        }
      }
      const vegaEmbed = await new Promise((resolve, reject) => {
        require(["vega-embed"], resolve, reject);
      });
      if (this.view) {
        this.view.finalize();
      }
      const result = await vegaEmbed(this.$refs.plotElement, spec, {
        renderer: "svg",
        // the menu saves the chart as PNG or SVG; the editor and source need the internet
        actions: { export: true, source: false, compiled: false, editor: false },
      });
      this.view = result.view;
      this.shape = shape;
    },
    async loadVega() {
      await this.loadRequire();
      require.config({
        map: {
          "*": {
            vega: `${this.getCdn()}/vega@5/build/vega.min.js`,
            "vega-lite": `${this.getCdn()}/vega-lite@5/build/vega-lite.min.js`,
            "vega-embed": `${this.getCdn()}/vega-embed@6/build/vega-embed.min.js`,
          },
        },
      });
      await new Promise((resolve, reject) => {
        require(["vega", "vega-lite", "vega-embed"], () => resolve(), reject);
      });
    },
    loadRequire() {
      if (window.requirejs) {
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = `${this.getCdn()}/requirejs@2.3.6/require.js`;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    },
    getCdn() {
      return window.solara ? window.solara.cdn : "_solara/cdn";
    },
  },
};
</script>
"""


class VegaView(v.VuetifyTemplate):
    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)


@solara.component
def VegaChart(spec: dict):
    """A Vega-Lite spec (dict with its data in `datasets`) as a live chart."""
    return VegaView.element(spec=spec)
