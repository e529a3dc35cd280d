package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;

/**
 * RoPE tables on the device, as kv_append and the GEMM epilogue read them: cos, sin [tableRows, headDim/2] f32; token t
 * by table row t where {@code rows} is null (FlowAR's 2D tables of a stage, a row per token), else by row rows[t]
 * (ARPG's: [tokens] f32 exact integers; a row outside the table gives NaN).
 */
public record RopeTable(DeviceAddress cos, DeviceAddress sin, DeviceAddress rows, int tableRows) {
    /** FlowAR's 2D RoPE tables of a stage of {@code tokens} tokens: token t by row t. */
    public static RopeTable ofStage(DeviceAddress cos, DeviceAddress sin, int tokens) {
        return new RopeTable(cos, sin, null, tokens);
    }
}
