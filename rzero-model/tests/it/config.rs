//! `config.json`: both transformers generations load; unsupported features are rejected.

use std::path::Path;

use rzero_model::{HfQwen3Config, ModelError, Qwen3Config};

use crate::common::fixture;

fn parse(json: serde_json::Value) -> Result<Qwen3Config, ModelError> {
    let hf: HfQwen3Config = serde_json::from_value(json).unwrap();
    hf.to_config(Path::new("config.json"))
}

fn base() -> serde_json::Value {
    serde_json::json!({
        "model_type": "qwen3", "vocab_size": 512, "hidden_size": 128,
        "intermediate_size": 384, "num_hidden_layers": 4, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 32, "max_position_embeddings": 1024,
        "rms_norm_eps": 1e-6, "tie_word_embeddings": true, "rope_theta": 1e6
    })
}

#[test]
fn transformers_4_and_5_configs_load() {
    let path = fixture("qwen3_s_tied/config.json"); // 5.x: rope_parameters, dtype
    let v5 = HfQwen3Config::from_file(&path)
        .unwrap()
        .to_config(&path)
        .unwrap();
    assert_eq!(v5.rope_theta, 1e6);
    assert!(v5.tie_word_embeddings);
    let path = fixture("qwen3_bf16_untied/config.json"); // 4.x: rope_theta, torch_dtype
    let v4 = HfQwen3Config::from_file(&path)
        .unwrap()
        .to_config(&path)
        .unwrap();
    assert_eq!(
        (v4.rope_theta, v4.head_dim, v4.num_key_value_heads),
        (5e5, 24, 1)
    );
    assert!(!v4.tie_word_embeddings);
    let preset = Qwen3Config::s();
    assert_eq!(parse(base()).unwrap(), preset);
}

#[test]
fn unsupported_features_name_the_field() {
    let cases: [(&str, serde_json::Value); 7] = [
        ("use_sliding_window", serde_json::json!(true)),
        (
            "layer_types",
            serde_json::json!(["full_attention", "sliding_attention"]),
        ),
        (
            "rope_scaling",
            serde_json::json!({"rope_type": "yarn", "factor": 4.0}),
        ),
        (
            "rope_parameters",
            serde_json::json!({"rope_type": "linear", "rope_theta": 1e4}),
        ),
        ("hidden_act", serde_json::json!("gelu")),
        ("attention_bias", serde_json::json!(true)),
        ("model_type", serde_json::json!("llama")),
    ];
    for (field, value) in cases {
        let mut json = base();
        json[field] = value;
        let err = parse(json).unwrap_err();
        assert!(
            matches!(&err, ModelError::Unsupported { field: f, .. } if f == field),
            "{field}: {err}"
        );
        assert!(err.to_string().contains("config.json"), "{err}");
    }
    let mut ok = base();
    ok["rope_scaling"] = serde_json::json!({"rope_type": "default"});
    ok["sliding_window"] = serde_json::json!(4096);
    ok["use_sliding_window"] = serde_json::json!(false);
    assert!(parse(ok).is_ok());
}

#[test]
fn impossible_shapes_are_rejected() {
    let mut json = base();
    json["num_key_value_heads"] = serde_json::json!(3);
    assert!(matches!(
        parse(json).unwrap_err(),
        ModelError::BadConfig { .. }
    ));
    let mut json = base();
    json["head_dim"] = serde_json::json!(31);
    assert!(matches!(
        parse(json).unwrap_err(),
        ModelError::BadConfig { .. }
    ));
}
