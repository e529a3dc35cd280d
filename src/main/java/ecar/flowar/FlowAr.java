package ecar.flowar;

import ecar.model.Weights;

/** The FlowAR modules together: the AR transformer and the flow head, loaded from one state dict. */
public record FlowAr(FlowArConfig config, ArTransformer ar, FlowHead head) {

    /** Loads both modules from weights with FlowAR's key names (flow head under "flownet."). */
    public static FlowAr load(FlowArConfig cfg, Weights w) {
        ArTransformer ar = new ArTransformer(cfg, w);
        FlowHead head = new FlowHead(cfg, w.at("flownet."));
        w.finish();
        return new FlowAr(cfg, ar, head);
    }
}
