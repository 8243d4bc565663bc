//! Deterministic safetensors bytes.

/// The serialized safetensors file with its JSON header re-written in
/// sorted key order (and re-padded to 8 bytes). Writers (`safetensors`,
/// burn's store) emit the `__metadata__` map in hash order, which changes
/// from run to run; equal tensors must give equal bytes. Bytes that are not
/// a readable safetensors file come back unchanged.
pub fn sorted_safetensors_header(bytes: Vec<u8>) -> Vec<u8> {
    let Some(len) = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(|b: [u8; 8]| u64::from_le_bytes(b) as usize)
    else {
        return bytes;
    };
    let Some(Ok(header)) = bytes
        .get(8..8usize.saturating_add(len))
        .map(serde_json::from_slice::<serde_json::Value>)
    else {
        return bytes;
    };
    // serde_json's map is a BTreeMap (no `preserve_order`): keys come out sorted.
    let mut text = header.to_string().into_bytes();
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    let data = &bytes[8 + len..];
    let mut out = Vec::with_capacity(8 + text.len() + data.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn metadata_orders_give_one_byte_string() {
        let a = file(
            r#"{"__metadata__":{"b":"2","a":"1"},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            &[1, 2, 3, 4],
        );
        let b = file(
            r#"{"t":{"shape":[1],"dtype":"F32","data_offsets":[0,4]},"__metadata__":{"a":"1","b":"2"}}"#,
            &[1, 2, 3, 4],
        );
        let (sa, sb) = (sorted_safetensors_header(a), sorted_safetensors_header(b));
        assert_eq!(sa, sb);
        let len = u64::from_le_bytes(sa[..8].try_into().unwrap()) as usize;
        assert_eq!(len % 8, 0);
        assert_eq!(&sa[8 + len..], &[1, 2, 3, 4]);
        let header: serde_json::Value = serde_json::from_slice(&sa[8..8 + len]).unwrap();
        assert_eq!(header["__metadata__"]["a"], "1");
    }

    #[test]
    fn unreadable_bytes_pass_through() {
        assert_eq!(sorted_safetensors_header(vec![1, 2]), vec![1, 2]);
        let huge_len = file("{}", &[])
            .into_iter()
            .enumerate()
            .map(|(i, b)| if i < 8 { 0xff } else { b })
            .collect::<Vec<u8>>();
        assert_eq!(sorted_safetensors_header(huge_len.clone()), huge_len);
    }
}
